import XCTest
@testable import CohortTune

/// The ASHA author's code where it differs from our defaults: failures left out of a
/// rung's quota, the floored bracket score, and Hyperband's n in exact integers.
final class ReferenceBehaviourTests: XCTestCase {
    /// Two failures and two successes at rung 0 with eta 2: counted, the quota is
    /// floor(4/2) = 2 and the weaker success (trial 2) goes on too; left out, the quota
    /// is floor(2/2) = 1 and a new configuration starts instead.
    func testFailuresLeftOutOfTheQuotaPromoteOnlyTheBestSuccess() throws {
        func run(countsFailures: Bool) throws -> [String] {
            var s = ASHAScheduler(space: tinySpace, seed: 1, ladder: RungLadder(minResource: 1, maxResource: 2, eta: 2),
                                  mode: .min, budget: Budget(maxTrials: 100), countsFailures: countsFailures)
            for _ in 0..<4 { _ = takeJob(&s) }
            try s.record(.failed(trial: 0, rung: 0, "diverged"))
            try s.record(.failed(trial: 1, rung: 0, "diverged"))
            try s.record(.metric(trial: 2, rung: 0, 3))
            try s.record(.metric(trial: 3, rung: 0, 1))
            XCTAssertEqual(s.bracket.promotionQuota(rung: 0), countsFailures ? 2 : 1)
            return [label(takeJob(&s)), label(takeJob(&s))]
        }
        XCTAssertEqual(try run(countsFailures: true), ["t3r1", "t2r1"])
        XCTAssertEqual(try run(countsFailures: false), ["t3r1", "t4r0"])
    }

    /// Brackets of depth 3, 2, 1 (R/r = 9, eta 3). Once the first two have each sent
    /// one job to their top rung, the product scores 3, 2, 0 and the floored score
    /// floor(1*3/3), floor(1*2/3), 0 = 1, 0, 0: the tie goes to the deeper bracket 1.
    func testFlooredBracketScoreTiesGoToTheDeeperBracket() throws {
        func order(_ score: AsyncHyperbandScheduler.BracketScore) throws -> [Int] {
            var s = AsyncHyperbandScheduler(space: tinySpace, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                            rates: [0, 1, 2], mode: .min, budget: Budget(maxTrials: 100), bracketScore: score)
            var steps = 0
            while s.topRungStarts[1] == 0 {
                let j = takeJob(&s)
                try s.record(.metric(trial: j.trial, rung: j.rung, Double(j.trial)))
                steps += 1
                if steps > 100 { XCTFail("bracket 1 never reached its top rung"); break }
            }
            XCTAssertEqual(s.topRungStarts, [1, 1, 0])
            XCTAssertEqual(s.brackets.indices.map(s.score(bracket:)), score == .product ? [3, 2, 0] : [1, 0, 0])
            return s.bracketOrder
        }
        XCTAssertEqual(try order(.product), [2, 1, 0])
        XCTAssertEqual(try order(.floored), [1, 2, 0])
    }

    /// R/r = 3^10: n = ceil(11 * 3^(d-1) / d) in integers. Bracket s = 2 (d = 9) is
    /// 8019; floating point gave 8020.
    func testHyperbandSizesAreTheExactIntegerCeiling() {
        let plan = SuccessiveHalvingScheduler.hyperbandPlan(minResource: 1, maxResource: 59049, eta: 3, minimumRate: 0)
        XCTAssertEqual(plan.count, 11)
        for (s, bracket) in plan.enumerated() {
            let d = 11 - s
            var power = 1
            for _ in 0..<(d - 1) { power *= 3 }
            XCTAssertEqual(bracket.size, (11 * power + d - 1) / d, "bracket s = \(s)")
        }
        XCTAssertEqual(plan[2].size, 8019)
    }

    func testConfigReadsTheReferenceSwitchesAndRefusesThemWhereTheyDoNotApply() throws {
        func config(_ scheduler: String) throws -> TuneConfig {
            try TuneConfig.parse("""
            scheduler: \(scheduler)
            trainable: {type: surrogate}
            space: {lr: {type: uniform, low: 0, high: 1}}
            """)
        }
        let a = try config("{type: async_hyperband, max_resource: 9, max_trials: 9, count_failures: false, bracket_score: floored}")
        XCTAssertFalse(a.scheduler.countsFailures)
        XCTAssertEqual(a.scheduler.bracketScore, .floored)
        let made = try XCTUnwrap(a.makeScheduler() as? AsyncHyperbandScheduler)
        XCTAssertEqual(made.bracketScore, .floored)
        XCTAssertFalse(made.brackets[0].countsFailures)
        let d = try config("{type: asha, max_resource: 9, max_trials: 9}")
        XCTAssertTrue(d.scheduler.countsFailures)
        XCTAssertEqual(d.scheduler.bracketScore, .product)
        XCTAssertThrowsError(try config("{type: sha, max_resource: 9, count_failures: false, bracket_score: floored}")) { e in
            XCTAssertEqual("\(e)", """
            scheduler.bracket_score: is a setting of async_hyperband only
            scheduler.count_failures: is a setting of asha and async_hyperband only (sha and hyperband promote a fixed number per rung)
            """)
        }
        XCTAssertThrowsError(try config("{type: async_hyperband, max_resource: 9, max_trials: 9, bracket_score: lowest}")) { e in
            XCTAssertEqual("\(e)", "scheduler.bracket_score: unknown value 'lowest' (expected one of product, floored)")
        }
    }
}
