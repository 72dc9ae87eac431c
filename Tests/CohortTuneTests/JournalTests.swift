import CohortFiles
import XCTest
import CohortTensor
@testable import CohortTune

final class JournalTests: XCTestCase {
    let spec = SchedulerSpec(kind: .asha, eta: 3, minResource: 1, maxResource: 27, budget: Budget(maxTrials: 60))

    func asha() -> any TrialScheduler { spec.makeScheduler(space: tinySpace, seed: 5, mode: .min) }

    func testEventLinesCarryTheRequiredFields() throws {
        let job = Job(trial: 4, config: TrialConfig(["x": .double(0.25)]), rung: 1, resource: 3, resumeFrom: 1)
        XCTAssertEqual(JournalEvent.start(.init(job: job, worker: 2, time: 1.5)).line,
                       #"{"event":"start","trial":4,"bracket":0,"rung":1,"resource":3,"worker":2,"config":{"x":0.25},"resume_from":1,"time":1.5}"# + "\n")
        let f = JournalEvent.Finish(trial: 4, bracket: 0, rung: 1, resource: 3, metric: 0.125, reason: nil, worker: 2, seconds: 0.5, time: 2)
        XCTAssertEqual(JournalEvent.result(f).line,
                       #"{"event":"result","trial":4,"bracket":0,"rung":1,"resource":3,"metric":0.125,"worker":2,"seconds":0.5,"time":2.0}"# + "\n")
        var g = f
        g.metric = nil
        g.reason = "metric is nan"
        XCTAssertEqual(JournalEvent.failed(g).line,
                       #"{"event":"failed","trial":4,"bracket":0,"rung":1,"resource":3,"reason":"metric is nan","worker":2,"seconds":0.5,"time":2.0}"# + "\n")
        // Every event reads back as itself.
        for e in [JournalEvent.start(.init(job: job, worker: 2, time: 1.5)), .result(f), .failed(g),
                  .lost(.init(trial: 4, bracket: 0, rung: 1, worker: 2, reason: "timeout", time: 3)), .resume(time: 4, requeued: 1),
                  .end(.init(time: 5, reason: "budget spent", trials: 5, results: 7, failures: 1, bestTrial: 4, bestMetric: 0.125)),
                  .run(.init(name: "n", scheduler: "asha", seed: 9, workers: 3, time: 0))] {
            let back = try JournalEvent(json: try JSONValue.parse(e.json.description), space: tinySpace)
            XCTAssertEqual(back, e)
        }
    }

    func testWriterAppendsAndReaderDropsATornLastLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("events.jsonl")
        let events = try simulate(asha(), workers: 3, seed: 1, stopAfterEvents: 20, metric: structuredMetric(seed: 1))
        let w = try JournalWriter(url: url)
        for e in events { try w.append(e) }
        // A killed run can leave half a line.
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd()
        try h.write(contentsOf: Data(#"{"event":"result","tri"#.utf8))
        try h.close()
        let back = try JournalContents.read(url: url, space: tinySpace)
        XCTAssertEqual(back.events, events)
        XCTAssertTrue(back.droppedTornLine)
        // Reopening for a resume cuts the torn tail before appending.
        let w2 = try JournalWriter(url: url, truncatingTo: back.validLength)
        try w2.append(.resume(time: 9, requeued: 0))
        let again = try JournalContents.read(url: url, space: tinySpace)
        XCTAssertEqual(again.events, events + [.resume(time: 9, requeued: 0)])
        XCTAssertFalse(again.droppedTornLine)
    }

    func testCorruptMiddleLineIsAnError() {
        let text = #"{"event":"resume","requeued":0,"time":1.0}"# + "\nnot json\n" + #"{"event":"resume","requeued":0,"time":2.0}"# + "\n"
        XCTAssertThrowsError(try JournalContents.parse(Data(text.utf8), space: tinySpace)) { e in
            XCTAssertTrue("\(e)".hasPrefix("events.jsonl line 2:"), "\(e)")
        }
    }

    // MARK: Audit

    func testSimulatedRunsOfEverySchedulerAreLegal() throws {
        let kinds: [(SchedulerKind, Budget)] = [(.asha, Budget(maxTrials: 80)), (.asyncHyperband, Budget(maxTrials: 80)),
                                                (.sha, Budget(maxTrials: 60)), (.hyperband, Budget()), (.random, Budget(maxTrials: 20))]
        for (kind, budget) in kinds {
            for seed in 1...3 as ClosedRange<UInt64> {
                let spec = SchedulerSpec(kind: kind, eta: 3, minResource: 1, maxResource: 27, budget: budget)
                let events = try simulate(spec.makeScheduler(space: tinySpace, seed: seed, mode: .min), workers: 4, seed: seed,
                                          failEvery: 11, metric: structuredMetric(seed: seed))
                XCTAssertEqual(JournalAudit.check(events, spec: spec, mode: .min), [], "\(kind) seed \(seed)")
                XCTAssertTrue(events.contains { if case .failed = $0 { return true } else { return false } })
                XCTAssertEqual(events.filter { if case .start = $0 { return true } else { return false } }.count,
                               events.filter { if case .result = $0 { return true } else if case .failed = $0 { return true } else { return false } }.count)
            }
        }
    }

    func testAuditAllowsRungZeroOrderWithinTheWindowOnlyForSynchronousBrackets() {
        func start(_ trial: Int, rung: Int = 0) -> JournalEvent {
            .start(.init(job: Job(trial: trial, config: tinySpace.sample(trial: trial, seed: 5), rung: rung, resource: 1), worker: 1, time: 0))
        }
        let sha = SchedulerSpec(kind: .sha, eta: 3, minResource: 1, maxResource: 27, budget: Budget())
        let window = SuccessiveHalvingScheduler.preferenceWindow
        // Trial 2, then 0, then the last id of the window after 1: legal for SHA.
        XCTAssertEqual(JournalAudit.check([start(2), start(0), start(window)], spec: sha, mode: .min), [])
        XCTAssertEqual(JournalAudit.check([start(2), start(0), start(window + 2)], spec: sha, mode: .min).map(\.description),
                       ["line 3: new trial \(window + 2), expected id 1 or one of the \(window - 1) unstarted ids after it"])
        XCTAssertEqual(JournalAudit.check([start(0), start(0)], spec: sha, mode: .min).first?.description,
                       "line 2: trial 0 started rung 0 while rung 0 was still running")
        let asha = SchedulerSpec(kind: .asha, eta: 3, minResource: 1, maxResource: 27, budget: Budget())
        XCTAssertEqual(JournalAudit.check([start(1)], spec: asha, mode: .min).map(\.description), ["line 1: new trial 1, expected id 0"])
    }

    func testAuditCatchesAnIllegalPromotionAndAPrematureNewTrial() throws {
        var events = try simulate(asha(), workers: 1, seed: 2, metric: { t, _ in Double(t) })
        // With one worker and metric = trial id, line order is deterministic. Forge:
        // promote trial 2 instead of trial 0 at the first promotion.
        guard let i = events.firstIndex(where: { if case let .start(s) = $0 { return s.job.rung == 1 } else { return false } }),
              case var .start(s) = events[i] else { return XCTFail("no promotion") }
        XCTAssertEqual(s.job.trial, 0)
        s.job.trial = 2
        s.job.config = tinySpace.sample(trial: 2, seed: 5)
        var forged = events
        forged[i] = .start(s)
        let v = JournalAudit.check(Array(forged[...i]), spec: spec, mode: .min)
        XCTAssertEqual(v.map(\.description), ["line \(i + 1): trial 2 promoted out of rung 0 but is not in its top 1 of 3"])

        // Remove the promotion and its result: the next new trial started while trial 0 was promotable.
        events.removeSubrange(i...(i + 1))
        let w = JournalAudit.check(Array(events[...i]), spec: spec, mode: .min)
        XCTAssertEqual(w.first?.description, "line \(i + 1): new trial 3 started in bracket 0 while rung 0 had promotable trials [0]")
    }

    // MARK: Replay and resume

    func testResumeAfterAKillAtAnyPointAnswersEveryJobExactlyOnce() throws {
        for cut in [1, 7, 23, 60, 111] {
            let first = try simulate(asha(), workers: 4, seed: 3, stopAfterEvents: cut, metric: structuredMetric(seed: 3))
            let replay = try FarmCoordinator.replay(first, scheduler: asha(), mode: .min)
            XCTAssertFalse(replay.ended)
            let rest = try simulate(asha(), workers: 4, seed: 4, startingFrom: replay, metric: structuredMetric(seed: 3))
            let all = first + rest
            XCTAssertEqual(JournalAudit.check(all, spec: spec, mode: .min), [], "cut \(cut)")
            var answered: [[Int]: Int] = [:]
            var started = Set<[Int]>()
            for e in all {
                switch e {
                case let .start(s): started.insert([s.job.trial, s.job.rung])
                case let .result(f), let .failed(f): answered[[f.trial, f.rung], default: 0] += 1
                default: break
                }
            }
            XCTAssertEqual(Set(answered.keys), started, "every started job answered (cut \(cut))")
            XCTAssertTrue(answered.values.allSatisfy { $0 == 1 }, "no job answered twice (cut \(cut))")
            XCTAssertEqual(Set(answered.keys.map { $0[0] }).count, 60)
            // The interrupted jobs are re-run first, before any new decision.
            let restarted = rest.compactMap { e -> [Int]? in if case let .start(s) = e { return [s.job.trial, s.job.rung] } else { return nil } }
            XCTAssertEqual(Array(restarted.prefix(replay.interrupted.count)), replay.interrupted.map { [$0.trial, $0.rung] })
        }
    }

    func testReplayRejectsAJournalFromAnotherConfig() throws {
        let events = try simulate(asha(), workers: 2, seed: 3, stopAfterEvents: 10, metric: structuredMetric(seed: 3))
        let other = SchedulerSpec(kind: .asha, eta: 3, minResource: 3, maxResource: 27, budget: Budget(maxTrials: 60))
        XCTAssertThrowsError(try FarmCoordinator.replay(events, scheduler: other.makeScheduler(space: tinySpace, seed: 5, mode: .min), mode: .min)) { e in
            XCTAssertEqual("\(e)", "events.jsonl line 1 does not follow from the config: expected trial 0 rung 0 at resource 3.0, the journal has trial 0 rung 0 at resource 1.0")
        }
    }

    func testAnAnswerToAnotherJobPutsTheWorkersJobBackInTheQueue() throws {
        var c = FarmCoordinator(scheduler: asha(), mode: .min)
        guard case let (.run(j0), _) = c.assign(worker: 1, now: 0) else { return XCTFail() }
        XCTAssertNil(c.reclaim(worker: 1, answering: .metric(trial: 0, rung: 0, 1), now: 1), "its own job: nothing to reclaim")
        XCTAssertEqual(c.reclaim(worker: 1, answering: .metric(trial: 5, rung: 0, 1), now: 1),
                       .lost(.init(trial: 0, bracket: 0, rung: 0, worker: 1, reason: "answered trial 5 rung 0 instead of this job", time: 1)))
        guard case let (.run(again), _) = c.assign(worker: 2, now: 2) else { return XCTFail() }
        XCTAssertEqual(again, j0)
    }

    func testLostWorkerJobIsRequeuedAndALateAnswerIsIgnored() throws {
        var c = FarmCoordinator(scheduler: asha(), mode: .min)
        guard case let (.run(j0), _) = c.assign(worker: 1, now: 0) else { return XCTFail() }
        XCTAssertEqual(c.overdue(now: 5, timeout: 10), [])
        XCTAssertEqual(c.overdue(now: 11, timeout: 10), [1])
        XCTAssertEqual(c.lose(worker: 1, reason: "no answer in 10 s", now: 11),
                       .lost(.init(trial: 0, bracket: 0, rung: 0, worker: 1, reason: "no answer in 10 s", time: 11)))
        // The lost job goes to the next free worker before anything new.
        guard case let (.run(again), _) = c.assign(worker: 2, now: 12) else { return XCTFail() }
        XCTAssertEqual(again, j0)
        XCTAssertNotNil(try c.complete(worker: 2, result: .metric(trial: 0, rung: 0, 1), seconds: 1, now: 13))
        // The first worker was only slow: its late answer changes nothing.
        XCTAssertNil(try c.complete(worker: 1, result: .metric(trial: 0, rung: 0, 1), seconds: 1, now: 14))
        XCTAssertEqual(c.results, 1)
    }
}

final class SurrogateTests: XCTestCase {
    func factory(mode: MetricMode = .min, extra: String = "") throws -> SurrogateTrainableFactory {
        let c = try TuneConfig.parse("""
        mode: \(mode.rawValue)
        scheduler: {type: asha, max_resource: 27, max_trials: 5}
        trainable: {type: surrogate, noise: 0.01\(extra)}
        space: {lr: {type: loguniform, low: 1.0e-4, high: 1}, m: {type: uniform, low: 0, high: 1}}
        """)
        return try XCTUnwrap(try c.makeTrainableFactory() as? SurrogateTrainableFactory)
    }

    func testCurvesImproveAndResumingGivesTheSameNumbers() throws {
        let f = try factory()
        let config = f.context.space.sample(trial: 3, seed: 0)
        let a = try f.make(trial: 3, config: config)
        try a.train(to: 9)
        let straight = try a.evaluate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sur-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = try f.make(trial: 3, config: config)
        try b.train(to: 3)
        let early = try b.evaluate()
        try b.save(to: dir.appendingPathComponent("c"))
        let c = try f.make(trial: 3, config: config)
        try c.restore(from: dir.appendingPathComponent("c"), resource: 3)
        XCTAssertEqual(c.trainedResource, 3)
        try c.train(to: 9)
        XCTAssertEqual(try c.evaluate(), straight)
        let curve = f.curve(for: config)
        XCTAssertLessThan(curve.metric(trial: 3, at: 27, noisy: false), curve.metric(trial: 3, at: 3, noisy: false))
        XCTAssertNotEqual(early, straight)
        XCTAssertThrowsError(try f.make(trial: 4, config: config).restore(from: dir.appendingPathComponent("c"), resource: 3))
    }

    func testConfigurationsDifferAndCurvesCross() throws {
        let f = try factory()
        let curves = (0..<40).map { f.curve(for: f.context.space.sample(trial: $0, seed: 0)) }
        let finals = curves.map { $0.metric(trial: 0, at: 27, noisy: false) }
        let early = curves.map { $0.metric(trial: 0, at: 1, noisy: false) }
        XCTAssertGreaterThan(finals.max()! - finals.min()!, 0.3)
        // Early rank is informative but not perfect: some pair swaps order.
        var swaps = 0
        for i in 0..<40 { for j in 0..<40 where early[i] < early[j] && finals[i] > finals[j] { swaps += 1 } }
        XCTAssertGreaterThan(swaps, 0)
        XCTAssertLessThan(swaps, 40 * 39 / 4)
    }

    func testFailureRateMakesSomeTrialsDiverge() throws {
        let f = try factory(extra: ", failure_rate: 0.5")
        var failed = 0
        for t in 0..<40 {
            let tr = try f.make(trial: t, config: f.context.space.sample(trial: t, seed: 0))
            do { try tr.train(to: 27) } catch is SurrogateDiverged { failed += 1 }
        }
        XCTAssert((10...30).contains(failed), "\(failed)")
    }

    func testMaxModeGivesAccuracyLikeMetric() throws {
        let f = try factory(mode: .max)
        let c = f.curve(for: f.context.space.sample(trial: 1, seed: 0))
        XCTAssertGreaterThan(c.metric(trial: 1, at: 27, noisy: false), c.metric(trial: 1, at: 1, noisy: false))
        XCTAssert((0...1).contains(c.metric(trial: 1, at: 27, noisy: false)))
    }
}
