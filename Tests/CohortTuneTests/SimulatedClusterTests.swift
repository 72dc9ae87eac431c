import CohortFiles
import XCTest
import CohortTensor
@testable import CohortTune

/// The simulated cluster: the farm coordinator on a virtual clock.
final class SimulatedClusterTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A surrogate search; `scheduler` and `trainable` are YAML flow mappings.
    func config(_ scheduler: String, trainable: String = "{type: surrogate, seconds_per_unit: 0.5}",
                farm: String = "", seed: Int = 3) throws -> TuneConfig {
        try TuneConfig.parse("""
        name: sim
        seed: \(seed)
        metric: loss
        mode: min
        scheduler: \(scheduler)
        \(farm)
        trainable: \(trainable)
        space:
          lr: {type: loguniform, low: 1.0e-4, high: 1.0}
          width: {type: int, low: 8, high: 64}
        """)
    }

    func simulate(_ c: TuneConfig, _ spec: SimulatedClusterSpec) throws -> (SimulatedCluster.Outcome, [JournalEvent]) {
        let factory = try XCTUnwrap(try c.makeTrainableFactory() as? any SimulatableTrainableFactory)
        let journal = MemoryJournal()
        let outcome = try SimulatedCluster(spec: spec, factory: factory).run(coordinator: c.makeCoordinator(), journal: journal)
        return (outcome, journal.events)
    }

    func units(_ events: [JournalEvent]) -> Double {
        events.reduce(0) { sum, e in
            if case let .start(s) = e { return sum + s.job.resource - (s.job.resumeFrom ?? 0) }
            return sum
        }
    }

    // MARK: Time

    func testOneWorkerIsBusyForExactlyTheUnitsItTrains() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 12}")
        let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 1))
        // One worker never waits: the run lasts units x 0.5 s, and the worker is busy throughout.
        XCTAssertEqual(outcome.end.time, units(events) * 0.5, accuracy: 1e-9)
        XCTAssertEqual(outcome.busyFraction(workers: 1)[1]!, 1, accuracy: 1e-12)
        XCTAssertEqual(outcome.end.trials, 12)
        // The journal's times are the virtual clock: each result comes units x 0.5 s after its start.
        var started: [Int: (Double, Double)] = [:]
        for e in events {
            if case let .start(s) = e { started[s.job.trial] = (s.time, s.job.resource - (s.job.resumeFrom ?? 0)) }
            if case let .result(f) = e {
                let (t0, u) = try XCTUnwrap(started[f.trial])
                XCTAssertEqual(f.time - t0, u * 0.5, accuracy: 1e-9)
                XCTAssertEqual(f.seconds, u * 0.5, accuracy: 1e-9)
            }
        }
    }

    func testAJobOverheadDelaysEveryAnswerButNotTheTrainingTime() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 12}")
        let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 1, jobOverhead: 0.1))
        let jobs = events.filter { if case .start = $0 { return true } else { return false } }.count
        XCTAssertEqual(outcome.end.time, units(events) * 0.5 + Double(jobs) * 0.1, accuracy: 1e-9)
        let trained = events.reduce(0.0) { sum, e in if case let .result(f) = e { return sum + f.seconds } else { return sum } }
        XCTAssertEqual(trained, units(events) * 0.5, accuracy: 1e-9, "reported seconds are training only")
        XCTAssertThrowsError(try SimulatedClusterSpec(workers: 1, jobOverhead: -1).validate()) { e in
            XCTAssertEqual("\(e)", "--job-overhead must be a non-negative number of seconds, got -1.0")
        }
    }

    func testEveryJobTakingKTimesLongerStretchesTheRunByK() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 20}")
        let (plain, a) = try simulate(c, SimulatedClusterSpec(workers: 3))
        let (slow, b) = try simulate(c, SimulatedClusterSpec(workers: 3, stragglers: .fraction(1, slowdown: 3)))
        // Same decisions (every job slows alike, so the order of events is unchanged), three times the time.
        XCTAssertEqual(DecisionTrace.steps(a).map(\.description), DecisionTrace.steps(b).map(\.description))
        XCTAssertEqual(slow.end.time, 3 * plain.end.time, accuracy: 1e-9)
    }

    func testTheMetricsAreWhatARealWorkerReports() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 15}",
                           trainable: "{type: surrogate, seconds_per_unit: 0, failure_rate: 0.3}")
        let factory = try XCTUnwrap(try c.makeTrainableFactory() as? SurrogateTrainableFactory)
        let run = RunDirectory(dir.appendingPathComponent("ckpt"))
        _ = try run.create(configText: c.sourceText)
        let (_, events) = try simulate(c, SimulatedClusterSpec(workers: 2))
        var checked = 0
        for case let .start(s) in events {
            // The worker path: build, restore the previous rung's checkpoint, train, evaluate, save.
            XCTAssertEqual(factory.simulate(s.job).outcome, JobFarm.execute(s.job, factory: factory, run: run), "trial \(s.job.trial) rung \(s.job.rung)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15)
        XCTAssertTrue(events.contains { if case .failed = $0 { return true } else { return false } }, "failure_rate 0.3 gives failures")
    }

    // MARK: Determinism

    func testTheSameSeedGivesTheSameRunTwiceAndAnotherSeedDoesNot() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 300}", farm: "farm: {job_timeout: 30}")
        let spec = SimulatedClusterSpec(workers: 25, stragglers: .lognormal(sigma: 1), dropProbability: 0.05, jobTimeout: 30, seed: 7)
        let (o1, e1) = try simulate(c, spec)
        let (o2, e2) = try simulate(c, spec)
        XCTAssertEqual(e1, e2)
        XCTAssertEqual(o1.end, o2.end)
        XCTAssertGreaterThan(o1.droppedJobs, 0)
        var other = spec
        other.seed = 8
        let (o3, _) = try simulate(c, other)
        XCTAssertNotEqual(o1.end.time, o3.end.time)
    }

    func testSimulatedRunDirectoriesAreByteForByteReproducible() throws {
        let path = dir.appendingPathComponent("c.yaml")
        try """
        name: sim
        seed: 5
        mode: min
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 200}
        farm: {job_timeout: 40}
        trainable: {type: surrogate, seconds_per_unit: 1}
        space: {lr: {type: loguniform, low: 1.0e-4, high: 1.0}}
        """.write(to: path, atomically: true, encoding: .utf8)
        let sim = SimulationOptions(workers: 100, stragglers: .fraction(0.2, slowdown: 4), dropProbability: 0.02)
        var journals: [Data] = []
        for name in ["a", "b"] {
            let out = dir.appendingPathComponent(name)
            let outcome = try TuneRunner.simulate(TuneOptions(configPath: path.path, out: out.path), sim)
            XCTAssertEqual(outcome.end.trials, 200)
            let run = RunDirectory(out)
            journals.append(try Data(contentsOf: run.journalURL))
            XCTAssertEqual(try JournalAudit.check(run: run), [])
            // A run directory like a real run's, plus the cluster's description.
            let best = try JSONValue.parse(String(contentsOf: run.bestURL, encoding: .utf8))
            XCTAssertEqual(best["resource"]?.doubleValue, 27)
            XCTAssertNotNil(best["test_metric"]?.doubleValue)
            let description = try JSONValue.parse(String(contentsOf: run.simulationURL, encoding: .utf8))
            XCTAssertEqual(description["workers"]?.intValue, 100)
            XCTAssertEqual(description["stragglers"]?.stringValue, "fraction:0.2:4")
            XCTAssertTrue(outcome.summary.contains("simulated cluster: 100 workers"), outcome.summary)
        }
        XCTAssertEqual(journals[0], journals[1])
    }

    // MARK: Failures of the cluster

    func testDroppedJobsAreLostAtTheTimeoutAndRunAgain() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 60}", farm: "farm: {job_timeout: 20}")
        let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 4, dropProbability: 0.2, jobTimeout: 20, seed: 1))
        var starts: [[Int]: [Double]] = [:]
        var lost: [JournalEvent.Lost] = []
        for e in events {
            if case let .start(s) = e { starts[[s.job.trial, s.job.rung], default: []].append(s.time) }
            if case let .lost(l) = e { lost.append(l) }
        }
        XCTAssertEqual(lost.count, outcome.droppedJobs)
        XCTAssertEqual(outcome.losses, outcome.droppedJobs, "no straggler outlives the timeout here")
        XCTAssertGreaterThan(lost.count, 5)
        for l in lost {
            // Noticed exactly job_timeout after the attempt began, then started again.
            let times = try XCTUnwrap(starts[[l.trial, l.rung]])
            XCTAssertTrue(times.contains { abs(l.time - $0 - 20) < 1e-9 }, "trial \(l.trial) rung \(l.rung) lost at \(l.time), started at \(times)")
            XCTAssertTrue(times.contains { $0 >= l.time }, "trial \(l.trial) rung \(l.rung) runs again after its loss")
            XCTAssertTrue(l.reason.contains("job_timeout"))
        }
        XCTAssertEqual(JournalAudit.check(events, spec: c.scheduler, mode: c.mode), [])
        XCTAssertEqual(outcome.end.trials, 60)
    }

    func testAStragglerPastTheTimeoutIsLostAndItsLateAnswerIsIgnoredOnceTheCopyFinished() throws {
        // A tenth of the jobs run 30x slower than unloaded: they outlive the 10 s timeout,
        // run again on another worker, and answer late.
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 40}", farm: "farm: {job_timeout: 10}")
        let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 8, stragglers: .fraction(0.1, slowdown: 30), jobTimeout: 10, seed: 2))
        XCTAssertGreaterThan(outcome.losses, 0)
        XCTAssertEqual(outcome.droppedJobs, 0)
        // Each job answered exactly once, and every promotion legal.
        XCTAssertEqual(JournalAudit.check(events, spec: c.scheduler, mode: c.mode), [])
        let answered = events.compactMap { e -> [Int]? in if case let .result(f) = e { return [f.trial, f.rung] } else { return nil } }
        XCTAssertEqual(answered.count, Set(answered).count)
    }

    func testAFarmWhoseEveryWorkerIsLostStopsLikeTheRealOne() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 40}", farm: "farm: {job_timeout: 1}")
        XCTAssertThrowsError(try simulate(c, SimulatedClusterSpec(workers: 2, stragglers: .fraction(1, slowdown: 10), jobTimeout: 1))) { e in
            XCTAssertEqual("\(e)", "every simulated worker was lost with work outstanding")
        }
    }

    func testBadClusterSettingsAreOneReadableError() throws {
        XCTAssertThrowsError(try SimulatedClusterSpec(workers: 0).validate()) { e in
            XCTAssertEqual("\(e)", "--simulate-workers must be from 1 to 1000000, got 0")
        }
        XCTAssertThrowsError(try SimulatedClusterSpec(workers: 4, dropProbability: 0.1).validate()) { e in
            XCTAssertEqual("\(e)", "dropped jobs are noticed only through farm.job_timeout: set it in the config to simulate --drop-probability")
        }
        XCTAssertThrowsError(try SimulatedClusterSpec(workers: 4, dropProbability: 1, jobTimeout: 5).validate()) { e in
            XCTAssertEqual("\(e)", "--drop-probability must be in [0, 1), got 1.0")
        }
    }

    func testTheCommandLineRejectsWhatASimulationCannotDo() throws {
        let path = dir.appendingPathComponent("c.yaml")
        try """
        scheduler: {type: asha, max_resource: 9, max_trials: 5}
        trainable: {type: surrogate}
        space: {lr: {type: uniform, low: 0, high: 1}}
        """.write(to: path, atomically: true, encoding: .utf8)
        let sim = SimulationOptions(workers: 2)
        XCTAssertThrowsError(try TuneRunner.simulate(TuneOptions(configPath: path.path, out: dir.path, resume: true), sim)) { e in
            XCTAssertTrue("\(e)".contains("--resume continues real runs"), "\(e)")
        }
        XCTAssertThrowsError(try TuneRunner.simulate(TuneOptions(configPath: path.path, out: dir.path), sim)) { e in
            XCTAssertTrue("\(e)".contains("already exists"), "\(e)")
        }
        // A trainable without a cost model cannot be simulated.
        var catalog = TrainableCatalog.standard
        catalog.register("opaque") { _, _ in OpaqueFactory() }
        try """
        scheduler: {type: asha, max_resource: 9, max_trials: 5}
        trainable: {type: opaque}
        space: {lr: {type: uniform, low: 0, high: 1}}
        """.write(to: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TuneRunner.simulate(TuneOptions(configPath: path.path, out: dir.appendingPathComponent("o").path), sim, catalog: catalog)) { e in
            XCTAssertEqual("\(e)", "trainable 'opaque' cannot run on a simulated cluster: it has no cost model (use the surrogate)")
        }
    }

    struct OpaqueFactory: TrainableFactory {
        func make(trial: Int, config: TrialConfig) throws -> any Trainable { fatalError("not trained in this test") }
    }

    // MARK: Every scheduler

    func testEverySchedulerRunsToALegalJournalUnderStragglersAndDrops() throws {
        for s in ["{type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 120}",
                  "{type: sha, eta: 3, min_resource: 1, max_resource: 27, time_limit: 300}",
                  "{type: hyperband, eta: 3, min_resource: 1, max_resource: 27}",
                  "{type: async_hyperband, eta: 3, min_resource: 1, max_resource: 27, max_trials: 120}",
                  "{type: random, max_resource: 27, max_trials: 40}"] {
            let c = try config(s, farm: "farm: {job_timeout: 60}")
            let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 9, stragglers: .lognormal(sigma: 0.8),
                                                                          dropProbability: 0.03, jobTimeout: 60, seed: 11))
            XCTAssertEqual(JournalAudit.check(events, spec: c.scheduler, mode: c.mode), [], s)
            XCTAssertNoThrow(try FarmCoordinator.replay(events, scheduler: c.makeScheduler(), mode: c.mode), s)
            XCTAssertNotNil(outcome.coordinator.best, s)
            guard case .end = events.last else { return XCTFail("no end event: \(s)") }
        }
    }

    // MARK: Stopping at a target

    func testASearchStopsStartingWorkOnceATargetIsReached() throws {
        let c = try config("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 500, target: 0.6}")
        let (outcome, events) = try simulate(c, SimulatedClusterSpec(workers: 4))
        XCTAssertEqual(outcome.end.reason, "target reached")
        XCTAssertLessThan(outcome.end.trials, 500)
        let hit = try XCTUnwrap(events.firstIndex { e in
            if case let .result(f) = e { return f.resource == 9 && f.metric! <= 0.6 } else { return false }
        })
        // Nothing new starts after the result that reached it; the jobs in flight finish.
        XCTAssertFalse(events[hit...].contains { if case .start = $0 { return true } else { return false } })
        XCTAssertEqual(JournalAudit.check(events, spec: c.scheduler, mode: c.mode), [])
        // A journal that reached its target replays to a finished coordinator.
        var replay = try FarmCoordinator.replay(events, scheduler: c.makeScheduler(), mode: c.mode, target: c.stopTarget)
        XCTAssertTrue(replay.coordinator.targetReached)
        XCTAssertTrue(replay.coordinator.isFinished(now: outcome.end.time))
        XCTAssertEqual(replay.coordinator.assign(worker: 1, now: outcome.end.time).0, .stop)
    }

    // MARK: Parts

    func testStragglerModelsParseAndRejectBadText() throws {
        XCTAssertEqual(try StragglerModel(parsing: "none"), StragglerModel.none)
        XCTAssertEqual(try StragglerModel(parsing: "lognormal:0.5"), .lognormal(sigma: 0.5))
        XCTAssertEqual(try StragglerModel(parsing: "fraction:0.1:10"), .fraction(0.1, slowdown: 10))
        XCTAssertEqual(try StragglerModel(parsing: "fraction:0.1:10").description, "fraction:0.1:10")
        for (text, message) in [("gamma:2", "--stragglers: unknown straggler model 'gamma:2' (expected none, lognormal:SIGMA or fraction:P:K)"),
                                ("lognormal", "--stragglers: unknown straggler model 'lognormal' (expected none, lognormal:SIGMA or fraction:P:K)"),
                                ("lognormal:x", "--stragglers: SIGMA must be a number, got 'x' in 'lognormal:x'"),
                                ("lognormal:-1", "--stragglers: SIGMA must be at least 0, got -1.0"),
                                ("fraction:2:3", "--stragglers: P must be between 0 and 1, got 2.0"),
                                ("fraction:0.5:0.5", "--stragglers: K must be at least 1 (a slow-down), got 0.5")] {
            XCTAssertThrowsError(try StragglerModel(parsing: text)) { e in XCTAssertEqual("\(e)", message) }
        }
    }

    func testSlowDownsAreNeverSpeedUpsAndFollowTheirModel() {
        var rng = RandomStream(seed: 1, stream: [1])
        let lognormal = (0..<20_000).map { _ in StragglerModel.lognormal(sigma: 1).slowdown(&rng) }
        XCTAssertGreaterThanOrEqual(lognormal.min()!, 1)
        // Median of exp(|z|) is exp(0.6745).
        XCTAssertEqual(lognormal.sorted()[10_000], exp(0.6745), accuracy: 0.05)
        let fraction = (0..<20_000).map { _ in StragglerModel.fraction(0.1, slowdown: 10).slowdown(&rng) }
        XCTAssertEqual(Set(fraction), [1, 10])
        XCTAssertEqual(Double(fraction.filter { $0 == 10 }.count) / 20_000, 0.1, accuracy: 0.01)
    }

    func testTheEventQueueIsOrderedByTimeThenByArrival() {
        var q = EventQueue<String>()
        for (t, s) in [(3.0, "c"), (1.0, "a1"), (2.0, "b"), (1.0, "a2"), (1.0, "a3"), (0.5, "z")] { q.push(at: t, s) }
        var out: [String] = []
        while let (_, s) = q.pop() { out.append(s) }
        XCTAssertEqual(out, ["z", "a1", "a2", "a3", "b", "c"])
    }

    func testTimeSpreadGivesEachTrialItsOwnSpeed() throws {
        let c = try config("{type: asha, max_resource: 9, max_trials: 5}", trainable: "{type: surrogate, seconds_per_unit: 0.2, time_spread: 1}")
        let f = try XCTUnwrap(try c.makeTrainableFactory() as? SurrogateTrainableFactory)
        let speeds = (0..<50).map { f.secondsPerUnit(trial: $0) }
        XCTAssertEqual(Set(speeds).count, 50)
        XCTAssertTrue(speeds.allSatisfy { $0 >= 0.2 && $0 < 0.4 })
        XCTAssertEqual(f.secondsPerUnit(trial: 7), speeds[7], "a pure function of seed and trial")
    }
}
