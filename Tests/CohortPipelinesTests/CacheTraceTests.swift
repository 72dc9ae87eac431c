import XCTest
import CohortFiles
@testable import CohortPipelines
@testable import CohortTune

/// Traces read from journaled results, replayed through the policies, and the
/// affinity that sends a promotion to the worker holding its chain.
final class CacheTraceTests: XCTestCase {
    /// Items: root r (cost 4, 10 bytes); a and b below it (cost 1, 10 bytes each).
    let trace = CacheTrace(items: [
        .init(key: "r", stage: "pca", cost: 4, bytes: 10, parent: nil),
        .init(key: "a", stage: "rff", cost: 1, bytes: 10, parent: 0),
        .init(key: "b", stage: "rff", cost: 1, bytes: 10, parent: 0),
    ], requests: [1, 2, 1, 2])

    func testBoundsAndReplay() {
        XCTAssertEqual(trace.uncachedSeconds, 20)
        XCTAssertEqual(trace.unboundedSeconds, 6)
        // Room for everything: each item computed once.
        XCTAssertEqual(trace.replay(policy: .lru, capacity: 30).recomputeSeconds, 6)
        // Room for one item: LRU keeps the last leaf, which the next request never wants.
        XCTAssertEqual(trace.replay(policy: .lru, capacity: 10).recomputeSeconds, 20)
        // Room for two: the root stays (each hit refreshes it) and the leaves take turns:
        // r + a, then b, a, b again.
        for policy in CachePolicy.allCases {
            let o = trace.replay(policy: policy, capacity: 20)
            XCTAssertEqual(o.recomputeSeconds, 8, "\(policy)")
            XCTAssertEqual(o.hits, 3, "\(policy)")
            XCTAssertEqual(o.computations, 5, "\(policy)")
        }
    }

    func testReadFromJournaledResults() {
        func result(_ trial: Int, _ metrics: [String: Double]) -> JournalEvent {
            .result(.init(trial: trial, bracket: 0, rung: 0, resource: 1, metric: 0.5, reason: nil, worker: 1, seconds: 1, time: Double(trial),
                          metrics: metrics))
        }
        let events = [
            result(0, ["pipeline.pca.key": 1, "pipeline.pca.cost": 4, "pipeline.pca.bytes": 10, "pipeline.pca.source": 0,
                       "pipeline.rff.key": 2, "pipeline.rff.cost": 1, "pipeline.rff.bytes": 10, "pipeline.rff.source": 0]),
            result(1, ["pipeline.rff.key": 2, "pipeline.rff.cost": 1, "pipeline.rff.bytes": 10, "pipeline.rff.source": 1]),
            result(2, ["pipeline.pca.key": 1, "pipeline.pca.cost": 4, "pipeline.pca.bytes": 10, "pipeline.pca.source": 2,
                       "pipeline.rff.key": 3, "pipeline.rff.cost": 2, "pipeline.rff.bytes": 10, "pipeline.rff.source": 0]),
        ]
        let t = CacheTrace.read(events, stages: ["pca", "rff"])
        XCTAssertEqual(t.items.map(\.key), ["0000000000001", "0000000000002", "0000000000003"])
        XCTAssertEqual(t.items.map(\.parent), [nil, 0, 0])
        XCTAssertEqual(t.requests, [1, 1, 2])
        XCTAssertEqual(t.uncachedSeconds, 4 + 1 + 4 + 1 + 4 + 2)
    }

    func testIntegerProgramNamesEveryRequest() {
        let lp = trace.integerProgram(capacity: 20)
        XCTAssertTrue(lp.hasPrefix("\\ minimum recompute cost of 4 requests"))
        XCTAssertTrue(lp.contains("need_0_1: c_1_0 >= 1"))
        XCTAssertTrue(lp.contains("need_2_1: c_1_2 + x_1_1 >= 1"))
        XCTAssertTrue(lp.contains("need_2_0: c_0_2 + x_0_1 - c_1_2 >= 0"))
        XCTAssertTrue(lp.contains("capacity_3:"))
        XCTAssertTrue(lp.hasSuffix("End\n"))
    }

    func testAffinityPicksThePromotionAWorkerHolds() throws {
        func run(affinity: Bool) throws -> [Int: Int] {
            let space = try SearchSpace(json: try JSONValue.parse(#"{"k": {"type": "int", "low": 0, "high": 1000000000}}"#))
            let plan = SuccessiveHalvingScheduler.shaPlan(minResource: 1, maxResource: 9, eta: 3, earlyStoppingRate: 0)
            var c = FarmCoordinator(scheduler: SuccessiveHalvingScheduler(
                space: space, seed: 1, minResource: 1, maxResource: 9, eta: 3, plan: plan, mode: .max, budget: Budget()), mode: .max)
            if affinity { c.affinity = PrefixAffinity(keys: { ["k\($0["k"]?.description ?? "")"] }) }
            // Rung 0 in three waves: worker w runs trials w-1, w+2, w+5.
            for _ in 0..<3 {
                var wave: [(Int, Job)] = []
                for w in 1...3 {
                    guard case let .run(job) = c.assign(worker: w, now: 0).0 else { XCTFail("no job"); return [:] }
                    wave.append((w, job))
                }
                for (w, job) in wave {
                    _ = try c.complete(worker: w, result: .metric(trial: job.trial, rung: 0, Double(job.trial) / 10), seconds: 1, now: 1)
                }
            }
            // Trials 8, 7, 6 go on, best first; workers 1, 2, 3 ask in turn.
            var given: [Int: Int] = [:]
            for w in 1...3 {
                guard case let .run(job) = c.assign(worker: w, now: 2).0 else { XCTFail("no promotion"); return [:] }
                XCTAssertEqual(job.rung, 1)
                given[w] = job.trial
            }
            return given
        }
        XCTAssertEqual(try run(affinity: false), [1: 8, 2: 7, 3: 6])
        XCTAssertEqual(try run(affinity: true), [1: 6, 2: 7, 3: 8])
    }

    func testReplayAcceptsTheOrderAffinityChose() throws {
        let space = try SearchSpace(json: try JSONValue.parse(#"{"k": {"type": "int", "low": 0, "high": 1000000000}}"#))
        func scheduler() -> SuccessiveHalvingScheduler {
            SuccessiveHalvingScheduler(space: space, seed: 1, minResource: 1, maxResource: 9, eta: 3,
                                       plan: SuccessiveHalvingScheduler.shaPlan(minResource: 1, maxResource: 9, eta: 3, earlyStoppingRate: 0),
                                       mode: .max, budget: Budget())
        }
        var c = FarmCoordinator(scheduler: scheduler(), mode: .max)
        c.affinity = PrefixAffinity(keys: { ["k\($0["k"]?.description ?? "")"] })
        var events: [JournalEvent] = []
        for t in 0..<9 {
            let (a, e) = c.assign(worker: 1 + t % 3, now: Double(t))
            guard case let .run(job) = a, let e else { return XCTFail("no job") }
            events.append(e)
            if let r = try c.complete(worker: 1 + t % 3, result: .metric(trial: job.trial, rung: 0, Double(job.trial) / 10), seconds: 1, now: Double(t)) {
                events.append(r)
            }
        }
        let (a, e) = c.assign(worker: 1, now: 10)
        guard case let .run(promotion) = a, let e else { return XCTFail("no promotion") }
        XCTAssertEqual(promotion.trial, 6)   // worker 1 ran trials 0, 3, 6
        events.append(e)
        let replay = try FarmCoordinator.replay(events, scheduler: scheduler(), mode: .max)
        XCTAssertEqual(replay.interrupted.map(\.trial), [6])
    }
}

/// Rung 0 of a SHA bracket takes its configurations in any order: a preference picks
/// among the next few, and a constant one keeps the order of ids.
final class RungZeroPreferenceTests: XCTestCase {
    func scheduler() throws -> SuccessiveHalvingScheduler {
        let space = try SearchSpace(json: try JSONValue.parse(#"{"k": {"type": "int", "low": 0, "high": 1000}}"#))
        return SuccessiveHalvingScheduler(space: space, seed: 2, minResource: 1, maxResource: 9, eta: 3,
                                          plan: SuccessiveHalvingScheduler.shaPlan(minResource: 1, maxResource: 9, eta: 3, earlyStoppingRate: 0),
                                          mode: .max, budget: Budget())
    }

    func testPreferencePicksAmongTheNextConfigurations() throws {
        var plain = try scheduler(), preferring = try scheduler()
        var order: [Int] = [], chosen: [Int] = []
        for _ in 0..<9 {
            guard case let .run(a) = plain.nextDecision(now: 0),
                  case let .run(b) = preferring.nextDecision(now: 0, preferring: { $0.config["k"]?.intValue ?? 0 }) else { return XCTFail("no job") }
            order.append(a.trial)
            chosen.append(b.trial)
            XCTAssertEqual(b.config, try scheduler().book.space.sample(trial: b.trial, seed: 2))
        }
        XCTAssertEqual(order, Array(0..<9))
        XCTAssertEqual(Set(chosen), Set(0..<9))     // the same trials, in another order
        XCTAssertNotEqual(chosen, order)
        let ks = chosen.map { try? scheduler().book.space.sample(trial: $0, seed: 2)["k"]?.intValue ?? 0 }
        XCTAssertEqual(ks.first, ks.compactMap { $0 }.max())   // the highest k of the 9 first
        XCTAssertEqual(preferring.trialsStarted, 9)
        // The bracket is full: nothing more starts until results arrive.
        XCTAssertEqual(preferring.nextDecision(now: 0, preferring: { _ in 0 }), .wait)
    }
}
