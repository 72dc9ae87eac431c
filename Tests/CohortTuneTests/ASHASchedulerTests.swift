import XCTest
@testable import CohortTune

final class ASHASchedulerTests: XCTestCase {
    func makeASHA(eta: Int = 3, r: Double = 1, R: Double = 9, s: Int = 0, mode: MetricMode = .min,
                  budget: Budget = Budget(maxTrials: 100)) -> ASHAScheduler {
        ASHAScheduler(space: tinySpace, seed: 1, ladder: RungLadder(minResource: r, maxResource: R, eta: eta, earlyStoppingRate: s),
                      mode: mode, budget: budget)
    }

    func testRungResourcesFollowREtaPowers() {
        XCTAssertEqual(RungLadder(minResource: 1, maxResource: 27, eta: 3).resources, [1, 3, 9, 27])
        XCTAssertEqual(RungLadder(minResource: 1, maxResource: 27, eta: 3, earlyStoppingRate: 1).resources, [3, 9, 27])
        // R/r not a power of eta: the top rung stays below R, as in Algorithm 2.
        XCTAssertEqual(RungLadder(minResource: 1, maxResource: 10, eta: 3).resources, [1, 3, 9])
        XCTAssertEqual(RungLadder(minResource: 2, maxResource: 64, eta: 2).resources, [2, 4, 8, 16, 32, 64])
        XCTAssertEqual(RungLadder.maxRate(minResource: 0.1, maxResource: 8.1, eta: 3), 4)
    }

    func testPromotesTopThirdAndStartsNewTrialsOtherwise() throws {
        var s = makeASHA()
        // Three new trials at rung 0 (resource 1).
        let first = (0..<3).map { _ in takeJob(&s) }
        XCTAssertEqual(first.map(label), ["t0r0", "t1r0", "t2r0"])
        XCTAssertEqual(first.map(\.resource), [1, 1, 1])
        XCTAssertTrue(first.allSatisfy { $0.resumeFrom == nil })

        // Fewer than eta results: floor(1/3) = 0 candidates, so a new trial.
        try s.record(.metric(trial: 0, rung: 0, 0.5))
        XCTAssertEqual(label(takeJob(&s)), "t3r0")

        // Three results: the top floor(3/3) = 1 is trial 1 (0.3), promoted to rung 1.
        try s.record(.metric(trial: 1, rung: 0, 0.3))
        try s.record(.metric(trial: 2, rung: 0, 0.9))
        let promo = takeJob(&s)
        XCTAssertEqual(label(promo), "t1r1")
        XCTAssertEqual(promo.resource, 3)
        XCTAssertEqual(promo.resumeFrom, 1)
        XCTAssertEqual(promo.config, s.book.configs[1])

        // Trial 1 is taken; no other candidate: new trial.
        XCTAssertEqual(label(takeJob(&s)), "t4r0")

        // Trial 3 (0.1) now heads rung 0 of 4 results; quota still 1, but the best
        // unpromoted among the top 1 is trial 3 itself: promoted ("incorrect" vs SHA).
        try s.record(.metric(trial: 3, rung: 0, 0.1))
        XCTAssertEqual(label(takeJob(&s)), "t3r1")
    }

    func testScansRungsFromTheTop() throws {
        var s = makeASHA()
        for _ in 0..<9 { _ = takeJob(&s) }
        for t in 0..<9 { try s.record(.metric(trial: t, rung: 0, Double(t))) }
        // Rung 0 has 9 results: top 3 are trials 0, 1, 2, promoted in rank order.
        XCTAssertEqual(label(takeJob(&s)), "t0r1")
        try s.record(.metric(trial: 0, rung: 1, 0.7))
        XCTAssertEqual(label(takeJob(&s)), "t1r1")
        try s.record(.metric(trial: 1, rung: 1, 0.2))
        XCTAssertEqual(label(takeJob(&s)), "t2r1")
        try s.record(.metric(trial: 2, rung: 1, 0.9))
        // Rung 1 now has 3 results: its top (trial 1) goes to rung 2 before anything at rung 0.
        let top = takeJob(&s)
        XCTAssertEqual(label(top), "t1r2")
        XCTAssertEqual(top.resource, 9)
        XCTAssertEqual(top.resumeFrom, 3)
        // Top rung promotes nothing further; rung 0 quota (3) is used up: new trial.
        try s.record(.metric(trial: 1, rung: 2, 0.1))
        XCTAssertEqual(label(takeJob(&s)), "t9r0")
    }

    func testTiesGoToTheSmallerTrialID() throws {
        var s = makeASHA(eta: 2, r: 1, R: 4)
        for _ in 0..<4 { _ = takeJob(&s) }
        for t in [3, 1, 2, 0] { try s.record(.metric(trial: t, rung: 0, 0.5)) }
        // Four equal results, quota 2: trials 0 then 1.
        XCTAssertEqual(label(takeJob(&s)), "t0r1")
        XCTAssertEqual(label(takeJob(&s)), "t1r1")
        XCTAssertEqual(label(takeJob(&s)), "t4r0")
    }

    func testFailedTrialsRankLastAndAreNeverPromoted() throws {
        var s = makeASHA(eta: 2, r: 1, R: 2)
        for _ in 0..<2 { _ = takeJob(&s) }
        try s.record(.failed(trial: 0, rung: 0, "diverged"))
        try s.record(.metric(trial: 1, rung: 0, .nan))   // NaN counts as a failure
        XCTAssertEqual(s.bracket.rungs[0].map(\.metric), [nil, nil])
        // Quota 1 but both failed: nothing promotable, a new trial starts.
        XCTAssertEqual(label(takeJob(&s)), "t2r0")
        try s.record(.metric(trial: 2, rung: 0, 100))
        // Three results, quota 1: trial 2 is the only success, ranked first.
        XCTAssertEqual(s.bracket.rungs[0].map(\.trial), [2, 0, 1])
        XCTAssertEqual(label(takeJob(&s)), "t2r1")
    }

    func testMaxModePromotesTheLargest() throws {
        var s = makeASHA(mode: .max)
        for _ in 0..<3 { _ = takeJob(&s) }
        for (t, m) in [(0, 0.2), (1, 0.8), (2, 0.5)] { try s.record(.metric(trial: t, rung: 0, m)) }
        XCTAssertEqual(label(takeJob(&s)), "t1r1")
    }

    func testEarlyStoppingRateShiftsTheLadder() {
        var s = makeASHA(eta: 3, r: 1, R: 27, s: 1)
        let j = takeJob(&s)
        XCTAssertEqual(j.resource, 3)
        XCTAssertEqual(s.bracket.rungs.count, 3)
    }

    func testTrialBudgetWaitsForInFlightThenFinishes() throws {
        var s = makeASHA(budget: Budget(maxTrials: 2))
        _ = takeJob(&s)
        _ = takeJob(&s)
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        XCTAssertEqual(s.nextDecision(now: 0), .wait, "wait must not change state")
        try s.record(.metric(trial: 0, rung: 0, 1))
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        try s.record(.metric(trial: 1, rung: 0, 2))
        // floor(2/3) = 0: nothing to promote, no trials left.
        XCTAssertEqual(s.nextDecision(now: 0), .finished)
    }

    func testNineTrialsFinishWithOnePromotedToTheTop() throws {
        var s = makeASHA(budget: Budget(maxTrials: 9))
        var order: [String] = []
        while case let .run(job) = s.nextDecision(now: 0) {
            order.append(label(job))
            try s.record(.metric(trial: job.trial, rung: job.rung, Double(job.trial)))
        }
        XCTAssertEqual(order, ["t0r0", "t1r0", "t2r0", "t0r1", "t3r0", "t4r0", "t5r0", "t1r1", "t6r0", "t7r0", "t8r0", "t2r1", "t0r2"])
        XCTAssertEqual(s.nextDecision(now: 0), .finished)
        XCTAssertEqual(s.bracket.rungs.map(\.count), [9, 3, 1])
    }

    func testTimeLimitStopsNewWork() throws {
        var s = makeASHA(budget: Budget(timeLimit: 10))
        _ = takeJob(&s, now: 0)
        XCTAssertEqual(s.nextDecision(now: 10), .wait)
        try s.record(.metric(trial: 0, rung: 0, 1))
        XCTAssertEqual(s.nextDecision(now: 10.5), .finished)
        XCTAssertNotNil(s.nextDecision(now: 9.9).job, "before the limit, work continues")
    }

    func testUnknownResultIsRejected() {
        var s = makeASHA()
        _ = takeJob(&s)
        XCTAssertThrowsError(try s.record(.metric(trial: 0, rung: 1, 1))) { error in
            XCTAssertEqual(error as? SchedulerError, .unknownJob(trial: 0, rung: 1))
        }
        XCTAssertThrowsError(try s.record(.metric(trial: 5, rung: 0, 1)))
    }
}
