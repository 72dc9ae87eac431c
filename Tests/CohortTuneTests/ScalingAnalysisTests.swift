import XCTest
@testable import CohortTune

/// Figures of merit read from journals, scaling tables, scheduler comparisons and
/// the agreement of simulated and real decisions.
final class ScalingAnalysisTests: XCTestCase {
    let cfg = TrialConfig(["x": .double(0.5)])

    func start(_ trial: Int, _ rung: Int, _ resource: Double, worker: Int, at t: Double, from: Double? = nil) -> JournalEvent {
        .start(.init(job: Job(trial: trial, config: cfg, rung: rung, resource: resource, resumeFrom: from), worker: worker, time: t))
    }

    func result(_ trial: Int, _ rung: Int, _ resource: Double, _ metric: Double?, worker: Int, at t: Double) -> JournalEvent {
        let f = JournalEvent.Finish(trial: trial, bracket: 0, rung: rung, resource: resource, metric: metric,
                                    reason: metric == nil ? "diverged" : nil, worker: worker, seconds: 1, time: t)
        return metric == nil ? .failed(f) : .result(f)
    }

    /// Two workers over 10 s: w1 busy 0-4 and 4-10, w2 busy 0-3, then lost at 8 on a job started at 5.
    lazy var events: [JournalEvent] = [
        .run(.init(name: "n", scheduler: "asha", seed: 1, workers: 2, time: 0)),
        start(0, 0, 1, worker: 1, at: 0), start(1, 0, 1, worker: 2, at: 0),
        result(1, 0, 1, 0.9, worker: 2, at: 3),
        result(0, 0, 1, 0.5, worker: 1, at: 4),
        start(0, 1, 3, worker: 1, at: 4, from: 1),
        start(2, 0, 1, worker: 2, at: 5),
        .lost(.init(trial: 2, bracket: 0, rung: 0, worker: 2, reason: "timeout", time: 8)),
        result(0, 1, 3, 0.3, worker: 1, at: 10),
        .end(.init(time: 10, reason: "budget spent", trials: 3, results: 3, failures: 0, bestTrial: 0, bestMetric: 0.3)),
    ]

    // MARK: RunAnalysis

    func testTimeToTargetCountsOnlyResultsTrainedFarEnough() {
        XCTAssertEqual(RunAnalysis.timeToTarget(events, target: 0.5, mode: .min, resource: 1), 4)
        XCTAssertEqual(RunAnalysis.timeToTarget(events, target: 0.5, mode: .min, resource: 3), 10)
        XCTAssertNil(RunAnalysis.timeToTarget(events, target: 0.2, mode: .min, resource: 1))
        XCTAssertEqual(RunAnalysis.timeToTarget(events, target: 0.8, mode: .max, resource: 1), 3)
    }

    func testSpansAndThroughputFollowTheWorkers() {
        let spans = RunAnalysis.spans(events)
        XCTAssertEqual(spans.map { [$0.worker, $0.trial, $0.rung] }, [[2, 1, 0], [1, 0, 0], [2, 2, 0], [1, 0, 1]])
        XCTAssertEqual(spans.map(\.ending), [.result, .result, .lost, .result])
        XCTAssertEqual(spans.map { $0.end - $0.start }, [3, 4, 3, 6])
        let t = RunAnalysis.throughput(events)
        XCTAssertEqual(t.workers, 2)
        XCTAssertEqual(t.duration, 10)
        XCTAssertEqual(t.results, 3)
        XCTAssertEqual(t.resultsPerSecond, 0.3, accuracy: 1e-12)
        XCTAssertEqual(t.busyFraction, 16.0 / 20.0, accuracy: 1e-12)
    }

    func testBusyWorkersCountEveryWorkerThroughSliceBoundaries() {
        // Three workers always busy with back-to-back jobs of 0.1 s: job boundaries
        // (0.1 * k in floating point) fall on and just around slice boundaries.
        var spans: [RunAnalysis.JobSpan] = []
        for w in 1 ... 3 {
            var t = 0.0
            for j in 0 ..< 100 {
                let end = Double(j + 1) * 0.1
                spans.append(.init(worker: w, trial: j, rung: 0, start: t, end: end, ending: .result))
                t = end
            }
        }
        let busy = RunAnalysis.busyWorkers(spans, duration: 10, slices: 600)
        XCTAssertEqual(busy.count, 600)
        for (k, b) in busy.enumerated() { XCTAssertEqual(b, 3, accuracy: 1e-6, "slice \(k)") }

        // One worker busy over [2.5, 7.5) of 10 s in 4 slices: half of slices 1 and 2.
        let half = RunAnalysis.busyWorkers([.init(worker: 1, trial: 0, rung: 0, start: 2.5, end: 7.5, ending: .result)],
                                           duration: 10, slices: 4)
        XCTAssertEqual(half, [0, 1, 1, 0])
        let partial = RunAnalysis.busyWorkers([.init(worker: 1, trial: 0, rung: 0, start: 1, end: 6, ending: .lost)],
                                              duration: 10, slices: 4)
        XCTAssertEqual(partial, [0.6, 1, 0.4, 0])
        let past = RunAnalysis.busyWorkers([.init(worker: 1, trial: 0, rung: 0, start: 0, end: 10, ending: .result)],
                                           duration: 5, slices: 5)
        XCTAssertEqual(past, [1, 1, 1, 1, 1], "time past the duration is not piled into the last slice")
    }

    func testTopResourceIsTheTopRungOrRForRandomSearch() {
        XCTAssertEqual(SchedulerSpec(kind: .asha, minResource: 1, maxResource: 81).topResource, 81)
        XCTAssertEqual(SchedulerSpec(kind: .asha, minResource: 1, maxResource: 100).topResource, 81)
        XCTAssertEqual(SchedulerSpec(kind: .random, minResource: 100, maxResource: 100).topResource, 100)
    }

    // MARK: ScalingTable

    func testSpeedupAndEfficiencyAreAgainstTheFewestWorkers() throws {
        let table = ScalingTable(rows: [
            .init(experiment: "asha", workers: 4, timeToTarget: 25, resultsPerSecond: 16, busyFraction: 0.9),
            .init(experiment: "asha", workers: 1, timeToTarget: 80, resultsPerSecond: 4, busyFraction: 1),
            .init(experiment: "asha", workers: 8, timeToTarget: nil, resultsPerSecond: 30, busyFraction: 0.8),
        ])
        XCTAssertEqual(table.rows.map(\.workers), [1, 4, 8])
        XCTAssertEqual(table.rows[1].speedup!, 3.2, accuracy: 1e-12)
        XCTAssertEqual(table.rows[1].efficiency!, 0.8, accuracy: 1e-12)
        XCTAssertNil(table.rows[2].speedup, "not reached: no speedup")
        XCTAssertEqual(table.csv, """
            experiment,workers,time_to_target_s,results_per_s,busy_fraction,speedup,efficiency,simulated_time_to_target_s
            asha,1,80.000,4.00,1.000,1.000,1.000,
            asha,4,25.000,16.00,0.900,3.200,0.800,
            asha,8,,30.00,0.800,,,

            """)
        XCTAssertEqual(try ScalingTable.parse(csv: table.csv), table)
    }

    func testAProgressRowTakesTheFirstPointAtTheTarget() throws {
        let row = ScalingTable.row(experiment: "fedavg", workers: 2, progress: [(1, 0.5), (2, 0.79), (3, 0.8), (4, 0.85)],
                                   target: 0.8, mode: .max, resultsPerSecond: 3)
        XCTAssertEqual(row.timeToTarget, 3)
        XCTAssertNil(row.busyFraction)
        let table = ScalingTable(rows: [row, .init(experiment: "fedavg", workers: 1, timeToTarget: 6, resultsPerSecond: 1.5, busyFraction: nil)])
        XCTAssertEqual(table.rows[1].speedup, 2)
        XCTAssertTrue(table.csv.contains("fedavg,2,3.000,3.00,,2.000,1.000,\n"), table.csv)
        XCTAssertEqual(try ScalingTable.parse(csv: table.csv), table)
        XCTAssertNil(ScalingTable.row(experiment: "x", workers: 1, progress: [(1, 0.5)], target: 0.8, mode: .max, resultsPerSecond: 1).timeToTarget)
    }

    func testAMalformedScalingCSVNamesItsLine() {
        XCTAssertThrowsError(try ScalingTable.parse(csv: "a,b\n1,2\n", source: "x.csv")) { e in
            XCTAssertEqual("\(e)", "x.csv: the header needs at least 'workers' and 'time_to_target_s' columns, got 'a,b'")
        }
        XCTAssertThrowsError(try ScalingTable.parse(csv: "workers,time_to_target_s\n2,fast\n", source: "x.csv")) { e in
            XCTAssertEqual("\(e)", "x.csv line 2: time_to_target_s 'fast' is not a number")
        }
        XCTAssertThrowsError(try ScalingTable.parse(csv: "workers,time_to_target_s\n0,3\n", source: "x.csv")) { e in
            XCTAssertEqual("\(e)", "x.csv line 2: workers '0' is not a positive whole number")
        }
    }

    func testAScalingRowIsMeasuredFromTheJournal() {
        let row = ScalingTable.row(experiment: "asha", events: events, target: StopTarget(metric: 0.4, resource: 3), mode: .min)
        XCTAssertEqual(row.workers, 2)
        XCTAssertEqual(row.timeToTarget, 10)
        XCTAssertEqual(row.resultsPerSecond, 0.3, accuracy: 1e-12)
        XCTAssertEqual(row.busyFraction!, 0.8, accuracy: 1e-12)
    }

    // MARK: DecisionTrace

    func testIdenticalDecisionsMatchEvenWhenResultsArriveInAnotherOrder() {
        var real = events
        real.swapAt(3, 4)                                  // the two rung-0 results swap; no decision between them
        let c = DecisionTrace.compare(simulated: events, real: real)
        XCTAssertTrue(c.matches)
        XCTAssertEqual(c.reorderedResults, 2)
        XCTAssertTrue(c.explanation.hasPrefix("the simulated and the real run made the same 5 decisions"), c.explanation)
    }

    func testTheFirstDifferentDecisionIsExplainedByWhatEachSideHadRecorded() {
        // The real run received trial 0's result after it started a new trial.
        let real: [JournalEvent] = [events[0], events[1], events[2], events[3], start(2, 0, 1, worker: 2, at: 3.001),
                                    result(0, 0, 1, 0.5, worker: 1, at: 4.002)]
        let c = DecisionTrace.compare(simulated: events, real: real)
        XCTAssertFalse(c.matches)
        XCTAssertEqual(c.agreeingDecisions, 2)
        XCTAssertTrue(c.explanation.contains("decision 3 is start t0r1 in the simulation and start t2r0 in the real run"), c.explanation)
        XCTAssertTrue(c.explanation.contains("only the simulation had recorded t0r0 (simulated finish 4.000 s)"), c.explanation)
    }

    func testTheClosestCallIsTheNearestResultAcrossAnyDecision() {
        let trace = DecisionTrace.steps([
            result(0, 0, 1, 0.5, worker: 1, at: 1.0), start(1, 0, 1, worker: 1, at: 1.0),
            result(2, 0, 1, 0.4, worker: 2, at: 1.3), start(0, 1, 3, worker: 2, at: 1.3, from: 1),
            result(1, 0, 1, 0.6, worker: 1, at: 1.35),
        ])
        // The first decision's next result is 0.3 s away; the second's is 0.05 s away.
        XCTAssertEqual(DecisionTrace.closestCall(trace)!, 0.05, accuracy: 1e-12)
        // A tie: two results at the decision's instant.
        let tie = DecisionTrace.steps([result(0, 0, 1, 0.5, worker: 1, at: 2), result(2, 0, 1, 0.4, worker: 2, at: 2),
                                       start(1, 0, 1, worker: 1, at: 2)])
        XCTAssertEqual(DecisionTrace.closestCall(tie), 0)
    }

    func testDifferentMetricsAreAMismatch() {
        var real = events
        real[4] = result(0, 0, 1, 0.55, worker: 1, at: 4)
        let c = DecisionTrace.compare(simulated: events, real: real)
        XCTAssertFalse(c.matches)
        XCTAssertEqual(c.resultMismatches, ["t0r0: result 0.5 in the simulation, result 0.55 in the real run"])
    }

    // MARK: SchedulerComparison

    func testMedianCountsUnreachedRunsAsSlowest() {
        XCTAssertEqual(SchedulerComparison.Row.median([3, nil, 1, 2, 5]), 3)
        XCTAssertEqual(SchedulerComparison.Row.median([nil, nil, 1]), nil)
        XCTAssertEqual(SchedulerComparison.Row.median([4, 2]), 3)
    }

    func testVerdictsCompareASHAWithEachRivalSeedBySeed() {
        func run(_ k: SchedulerKind, _ seed: UInt64, _ t: Double?) -> SchedulerComparison.Run {
            .init(scheduler: k, workers: 25, condition: "none", seed: seed, target: 0.3, timeToTarget: t, trials: 1, results: 1, simulated: 1, unitsPerTrial: 1)
        }
        let runs = [run(.asha, 1, 1.0), run(.sha, 1, 2.0), run(.random, 1, nil),
                    run(.asha, 2, 3.0), run(.sha, 2, 2.5), run(.random, 2, 4.0),
                    run(.asha, 3, 1.5), run(.sha, 3, 1.6), run(.random, 3, nil)]
        let v = SchedulerComparison.verdicts(runs)
        XCTAssertEqual(v.map(\.rival), [.sha, .random])
        XCTAssertEqual(v[0].ashaMedian, 1.5)
        XCTAssertEqual(v[0].rivalMedian, 2.0)
        XCTAssertEqual(v[0].ashaWins, 2)
        XCTAssertTrue(v[0].holds)
        XCTAssertNil(v[1].rivalMedian, "random reached the target in only 1 of 3")
        XCTAssertEqual(v[1].ashaWins, 3)
        XCTAssertTrue(v[1].holds)
        XCTAssertEqual(SchedulerComparison.csv(runs).split(separator: "\n").count, 10)
    }

    func testAComparisonRunsEveryCellDeterministically() throws {
        let base = try TuneConfig.parse("""
        seed: 1
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 10}
        trainable: {type: surrogate, seconds_per_unit: 1}
        space: {lr: {type: loguniform, low: 1.0e-4, high: 1.0}, m: {type: uniform, low: 0, high: 1}}
        """)
        let plan = SchedulerComparison(base: base, workers: [4, 16], conditions: [ClusterCondition(), ClusterCondition(stragglers: .lognormal(sigma: 1))],
                                       seeds: [1, 2], target: .quantile(0.05), timeLimit: 15, population: 2000)
        let runs = try plan.run()
        XCTAssertEqual(runs.count, 3 * 2 * 2 * 2)
        XCTAssertEqual(runs.map(\.timeToTarget), try plan.run().map(\.timeToTarget))
        // Random search trains every configuration fully: 27 units each.
        for r in runs where r.scheduler == .random { XCTAssertEqual(r.unitsPerTrial, 27, accuracy: 1e-9) }
        // A full SHA bracket of 27 spends (27 + 9*2 + 3*6 + 1*18) / 27 = 3 units per trial; a cut one less.
        for r in runs where r.scheduler == .sha { XCTAssertLessThanOrEqual(r.unitsPerTrial, 3 + 1e-9) }
        // Runs stop when the target is reached, never after the limit.
        for r in runs {
            if let t = r.timeToTarget { XCTAssertEqual(r.simulated, t, accuracy: 1e-9) }
            XCTAssertLessThanOrEqual(r.timeToTarget ?? 0, 15)
        }
        // Without stragglers every random-search job takes exactly time(R): results come at whole multiples.
        for r in runs where r.scheduler == .random && r.condition == "none" {
            if let t = r.timeToTarget { XCTAssertEqual(t, t.rounded(), accuracy: 1e-9) }
        }
    }

    func testAQuantileTargetIsThatQuantileOfTheFullyTrainedPopulation() throws {
        let base = try TuneConfig.parse("""
        scheduler: {type: asha, max_resource: 9, max_trials: 10}
        trainable: {type: surrogate, seconds_per_unit: 1, noise: 0}
        space: {lr: {type: uniform, low: 0, high: 1}}
        """)
        let plan = SchedulerComparison(base: base, workers: [1], conditions: [ClusterCondition()], seeds: [0], target: .quantile(0.1),
                                       timeLimit: 1, population: 1000)
        let target = try plan.targetValue(seed: 0)
        let factory = try XCTUnwrap(try base.makeTrainableFactory() as? SurrogateTrainableFactory)
        let metrics = (0..<1000).map { t -> Double in
            let c = base.space.sample(trial: t, seed: 0)
            return factory.curve(for: c).metric(trial: t, at: 9)
        }
        XCTAssertEqual(metrics.filter { $0 < target }.count, 100)
    }

    func testABadPlanIsOneReadableError() throws {
        let base = try TuneConfig.parse("""
        scheduler: {type: asha, max_resource: 9, max_trials: 10}
        trainable: {type: surrogate}
        space: {lr: {type: uniform, low: 0, high: 1}}
        """)
        let plan = SchedulerComparison(base: base, workers: [2], conditions: [ClusterCondition()], seeds: [1], target: .quantile(0.1), timeLimit: 5)
        XCTAssertThrowsError(try plan.validate()) { e in
            XCTAssertEqual("\(e)", "trainable.seconds_per_unit must be positive: times are measured in multiples of time(R) = max_resource x seconds_per_unit")
        }
    }
}
