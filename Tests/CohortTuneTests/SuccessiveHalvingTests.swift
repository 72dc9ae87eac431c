import XCTest
@testable import CohortTune

final class SuccessiveHalvingTests: XCTestCase {
    func makeSHA(budget: Budget = Budget()) -> SuccessiveHalvingScheduler {
        SuccessiveHalvingScheduler(space: tinySpace, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                   plan: SuccessiveHalvingScheduler.shaPlan(minResource: 1, maxResource: 9, eta: 3, earlyStoppingRate: 0),
                                   mode: .min, budget: budget)
    }

    func testBarrierThenTopThird() throws {
        var s = makeSHA()
        XCTAssertEqual(s.plan, [.init(earlyStoppingRate: 0, size: 9)])
        let rung0 = (0..<9).map { _ in takeJob(&s) }
        XCTAssertEqual(rung0.map(\.trial), Array(0..<9))
        XCTAssertEqual(s.nextDecision(now: 0), .wait, "rung 0 is not complete: barrier (plan has one bracket)")
        // Results arrive out of order; metric = 9 - trial, so 8, 7, 6 are best.
        for t in [4, 0, 8, 2, 6, 1, 3, 5] { try s.record(.metric(trial: t, rung: 0, Double(9 - t))) }
        XCTAssertEqual(s.nextDecision(now: 0), .wait, "8 of 9 results: still at the barrier")
        try s.record(.metric(trial: 7, rung: 0, 2))
        let rung1 = (0..<3).map { _ in takeJob(&s) }
        XCTAssertEqual(rung1.map(label), ["t8r1", "t7r1", "t6r1"])
        XCTAssertEqual(rung1.map(\.resource), [3, 3, 3])
        XCTAssertEqual(rung1.map(\.resumeFrom), [1, 1, 1])
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        try s.record(.metric(trial: 6, rung: 1, 0.1))
        try s.record(.metric(trial: 8, rung: 1, 0.3))
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        try s.record(.metric(trial: 7, rung: 1, 0.2))
        let top = takeJob(&s)
        XCTAssertEqual(label(top), "t6r2")
        XCTAssertEqual(top.resource, 9)
        try s.record(.metric(trial: 6, rung: 2, 0.05))
        XCTAssertEqual(s.nextDecision(now: 0), .finished)
        XCTAssertEqual(s.brackets[0].rungs.map(\.count), [9, 3, 1])
    }

    func testIdleWorkersOpenTheNextBracketWhenABudgetAllows() throws {
        var s = makeSHA(budget: Budget(maxTrials: 12))
        for _ in 0..<9 { _ = takeJob(&s) }
        // Bracket 0 waits at its barrier: bracket 1 opens, cut to the 3 trials left.
        let j = takeJob(&s)
        XCTAssertEqual(j.bracket, 1)
        XCTAssertEqual(j.trial, 9)
        _ = takeJob(&s); _ = takeJob(&s)
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        // Bracket 0's promotions come before anything else.
        for t in 0..<9 { try s.record(.metric(trial: t, rung: 0, Double(t))) }
        XCTAssertEqual(label(takeJob(&s)), "t0r1")
        // Bracket 1 (3 trials) promotes floor(3/3) = 1.
        for t in 9..<12 { try s.record(.metric(trial: t, rung: 0, Double(20 - t))) }
        XCTAssertEqual(label(takeJob(&s)), "t1r1")
        XCTAssertEqual(label(takeJob(&s)), "t2r1")
        let b1 = takeJob(&s)
        XCTAssertEqual(label(b1), "t11r1")
        XCTAssertEqual(b1.bracket, 1)
    }

    func testFailuresAreNotPromotedAndShrinkTheRung() throws {
        var s = makeSHA()
        for _ in 0..<9 { _ = takeJob(&s) }
        for t in 0..<9 {
            if t < 7 { try s.record(.failed(trial: t, rung: 0, "boom")) }
            else { try s.record(.metric(trial: t, rung: 0, Double(t))) }
        }
        // Top 3 by rank: 7, 8, then failures; only the two successes go on.
        XCTAssertEqual(label(takeJob(&s)), "t7r1")
        XCTAssertEqual(label(takeJob(&s)), "t8r1")
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        try s.record(.metric(trial: 8, rung: 1, 1))
        try s.record(.metric(trial: 7, rung: 1, 2))
        // Rung 2 quota is floor(9/9) = 1.
        XCTAssertEqual(label(takeJob(&s)), "t8r2")
    }

    func testHyperbandBracketsMatchTheHyperbandPaper() {
        let plan = SuccessiveHalvingScheduler.hyperbandPlan(minResource: 1, maxResource: 81, eta: 3, minimumRate: 0)
        XCTAssertEqual(plan.map(\.size), [81, 34, 15, 8, 5])
        XCTAssertEqual(plan.map(\.earlyStoppingRate), [0, 1, 2, 3, 4])
        let small = SuccessiveHalvingScheduler.hyperbandPlan(minResource: 1, maxResource: 27, eta: 3, minimumRate: 0)
        XCTAssertEqual(small.map(\.size), [27, 12, 6, 4])
    }

    func testHyperbandRunsEveryBracketOnce() throws {
        var s = SuccessiveHalvingScheduler(space: tinySpace, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                           plan: SuccessiveHalvingScheduler.hyperbandPlan(minResource: 1, maxResource: 9, eta: 3, minimumRate: 0),
                                           mode: .min, budget: Budget())
        var perBracket: [Int: [Double: Int]] = [:]
        while case let .run(job) = s.nextDecision(now: 0) {
            perBracket[job.bracket, default: [:]][job.resource, default: 0] += 1
            try s.record(.metric(trial: job.trial, rung: job.rung, Double(job.trial % 7)))
        }
        XCTAssertEqual(s.nextDecision(now: 0), .finished)
        // n = 9, 5, 3: bracket 0 runs 9@1, 3@3, 1@9; bracket 1: 5@3, 1@9; bracket 2: 3@9.
        XCTAssertEqual(perBracket[0], [1: 9, 3: 3, 9: 1])
        XCTAssertEqual(perBracket[1], [3: 5, 9: 1])
        XCTAssertEqual(perBracket[2], [9: 3])
        XCTAssertEqual(s.trialsStarted, 17)
    }
}

final class AsyncHyperbandAndRandomTests: XCTestCase {
    func testNewWorkGoesToTheBracketWithFewestTopRungJobsTimesDepth() throws {
        var s = AsyncHyperbandScheduler(space: tinySpace, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                        rates: [0, 1, 2], mode: .min, budget: Budget(maxTrials: 100))
        var order: [String] = []
        for _ in 0..<13 {
            let j = takeJob(&s)
            XCTAssertEqual(j.bracket, 0)
            order.append(label(j))
            try s.record(.metric(trial: j.trial, rung: j.rung, Double(j.trial)))
        }
        // Bracket 0 alone is ASHA until its first top-rung job (score 3 * 1).
        XCTAssertEqual(order, ["t0r0", "t1r0", "t2r0", "t0r1", "t3r0", "t4r0", "t5r0", "t1r1", "t6r0", "t7r0", "t8r0", "t2r1", "t0r2"])
        // Brackets 1 and 2 score 0: bracket 1 (rungs 3, 9) gets the next new trial.
        let next = takeJob(&s)
        XCTAssertEqual(next.bracket, 1)
        XCTAssertEqual(next.resource, 3)
        XCTAssertEqual(next.trial, 9)
        XCTAssertEqual(s.bracketOrder, [1, 2, 0])
    }

    func testShallowestBracketIsRandomSearchAtR() throws {
        var s = AsyncHyperbandScheduler(space: tinySpace, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                        rates: [2], mode: .min, budget: Budget(maxTrials: 2))
        let a = takeJob(&s), b = takeJob(&s)
        XCTAssertEqual([a.resource, b.resource], [9, 9])
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
    }

    func testRandomSearchTrainsEachTrialToR() throws {
        var s = RandomSearchScheduler(space: tinySpace, seed: 1, maxResource: 27, mode: .min, budget: Budget(maxTrials: 3))
        let jobs = (0..<3).map { _ in takeJob(&s) }
        XCTAssertEqual(jobs.map(\.resource), [27, 27, 27])
        XCTAssertEqual(jobs.map(\.rung), [0, 0, 0])
        XCTAssertEqual(s.nextDecision(now: 0), .wait)
        for j in jobs { try s.record(.metric(trial: j.trial, rung: 0, 1)) }
        XCTAssertEqual(s.nextDecision(now: 0), .finished)
    }

    func testGridSearchWalksTheCrossProduct() throws {
        let space = SearchSpace([Parameter(name: "a", domain: .grid([.int(1), .int(2)])),
                                 Parameter(name: "b", domain: .grid([.string("x"), .string("y"), .string("z")]))])
        var s = RandomSearchScheduler(space: space, seed: 1, maxResource: 1, mode: .min, budget: Budget(maxTrials: space.gridSize))
        var seen: [String] = []
        while case let .run(job) = s.nextDecision(now: 0) { seen.append(job.config.description) }
        XCTAssertEqual(seen, ["a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"])
    }
}
