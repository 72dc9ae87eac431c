import CohortCluster
import CohortFiles
import Foundation
import XCTest
@testable import CohortTune

/// How a tuning run ends, stops, dies and comes back: a signal's stop and its resume,
/// a resume of a finished run, jobs that keep killing the run, bounds on numbers.
final class RunLifecycleTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lifecycle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        StopRequest.simulate(0)
    }

    override func tearDownWithError() throws {
        StopRequest.simulate(0)
        try? FileManager.default.removeItem(at: dir)
    }

    func config(_ scheduler: String = "{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 12}",
                farm: String = "{job_timeout: 60}") throws -> String {
        let url = dir.appendingPathComponent("c-\(UUID().uuidString).yaml")
        try """
        name: life
        seed: 5
        scheduler: \(scheduler)
        farm: \(farm)
        trainable: {type: surrogate}
        space:
          lr: {type: loguniform, low: 1.0e-4, high: 1.0}
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func options(_ config: String?, _ out: String, resume: Bool = false) -> TuneOptions {
        TuneOptions(configPath: config, out: out, resume: resume, workers: 1, progress: false, syncJournal: false)
    }

    func events(_ out: String) throws -> [String] {
        try String(contentsOfFile: out + "/events.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONValue.parse(String($0))["event"]?.stringValue }
    }

    // MARK: Stop and resume

    func testASignalStopsTheRunWithAStopEventAndTheResumedRunEqualsAnUninterruptedOne() throws {
        let c = try config()
        let whole = dir.appendingPathComponent("whole").path
        _ = try TuneRunner.run(options(c, whole))

        let stopped = dir.appendingPathComponent("stopped").path
        StopRequest.simulate(SIGTERM)
        let first = try XCTUnwrap(try TuneRunner.run(options(c, stopped)))
        XCTAssertEqual(first.stoppedBy, "SIGTERM")
        XCTAssertTrue(first.summary.hasSuffix("resume with: cohort tune --resume --out \(RunDirectory(path: stopped).path)"), first.summary)
        XCTAssertEqual(try events(stopped).last, "stop")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped + "/best.json"))

        StopRequest.simulate(0)
        let second = try XCTUnwrap(try TuneRunner.run(options(nil, stopped, resume: true)))
        XCTAssertNil(second.stoppedBy)
        XCTAssertEqual(try events(stopped).last, "end")
        XCTAssertEqual(try JournalAudit.check(run: RunDirectory(path: stopped)), [])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: stopped + "/best.json")),
                       try Data(contentsOf: URL(fileURLWithPath: whole + "/best.json")))
    }

    func testResumingAFinishedRunChangesNothingAndWritesAMissingBestJSON() throws {
        let out = dir.appendingPathComponent("done").path
        _ = try TuneRunner.run(options(try config(), out))
        let journal = try Data(contentsOf: URL(fileURLWithPath: out + "/events.jsonl"))
        let best = try Data(contentsOf: URL(fileURLWithPath: out + "/best.json"))

        let again = try XCTUnwrap(try TuneRunner.run(options(nil, out, resume: true)))
        XCTAssertTrue(again.wasFinished)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/events.jsonl")), journal)

        // A kill between the end line and best.json: resume writes it, the journal stays.
        try FileManager.default.removeItem(atPath: out + "/best.json")
        _ = try TuneRunner.run(options(nil, out, resume: true))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/best.json")), best)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/events.jsonl")), journal)
    }

    func testARunKilledBeforeItsFirstJournalLineIsStartedByResume() throws {
        let c = try config()
        let out = dir.appendingPathComponent("empty").path
        _ = try RunDirectory(path: out).create(configText: String(contentsOfFile: c, encoding: .utf8))
        let outcome = try XCTUnwrap(try TuneRunner.run(options(nil, out, resume: true)))
        XCTAssertEqual(outcome.end.trials, 12)
        XCTAssertEqual(try events(out).first, "run")
        XCTAssertEqual(try JournalAudit.check(run: RunDirectory(path: out)), [])
    }

    // MARK: Jobs that kill the run

    /// The first job of a run, as the scheduler decides it.
    func firstJob(_ c: TuneConfig) throws -> Job {
        var s = c.makeScheduler()
        guard case let .run(job) = s.nextDecision(now: 0) else { throw XCTSkip("no job") }
        return job
    }

    func testAJobInFlightAtTwoDeathsInARowIsGivenUpAndOneStoppedOnPurposeIsNot() throws {
        let c = try TuneConfig.load(contentsOf: URL(fileURLWithPath: try config()))
        let job = try firstJob(c)
        let run = JournalEvent.run(.init(name: "life", scheduler: "asha", seed: 5, workers: 1, time: 0))
        let start = JournalEvent.start(.init(job: job, worker: 1, time: 0.1))
        let again = JournalEvent.start(.init(job: job, worker: 2, time: 0.3))

        let twice = try FarmCoordinator.replay([run, start, .resume(time: 0.2, requeued: 1), again], scheduler: c.makeScheduler(), mode: .min)
        XCTAssertEqual(twice.poisoned(limit: 2).map { [$0.job.trial, $0.worker, $0.deaths] }, [[job.trial, 2, 2]])
        XCTAssertEqual(twice.poisoned(limit: 3).count, 0)

        let once = try FarmCoordinator.replay([run, start], scheduler: c.makeScheduler(), mode: .min)
        XCTAssertEqual(once.poisoned(limit: 2).count, 0)
        XCTAssertEqual(once.interrupted, [job])

        let stoppedThenDied = try FarmCoordinator.replay([run, start, .stop(time: 0.2, reason: "SIGTERM", inFlight: 1),
                                                          .resume(time: 0.2, requeued: 1), again], scheduler: c.makeScheduler(), mode: .min)
        XCTAssertEqual(stoppedThenDied.poisoned(limit: 2).count, 0)
        XCTAssertFalse(stoppedThenDied.stoppedOnPurpose)
    }

    func testResumeJournalsAPoisonJobAsFailedAndTheSearchFinishes() throws {
        let c = try config()
        let out = dir.appendingPathComponent("poison").path
        let text = try String(contentsOfFile: c, encoding: .utf8)
        let parsed = try TuneConfig.parse(text)
        let job = try firstJob(parsed)
        _ = try RunDirectory(path: out).create(configText: text)
        // Two sessions died while the first job ran.
        let lines = [JournalEvent.run(.init(name: "life", scheduler: "asha", seed: 5, workers: 1, time: 0)),
                     .start(.init(job: job, worker: 1, time: 0.1)), .resume(time: 0.2, requeued: 1),
                     .start(.init(job: job, worker: 1, time: 0.3))].map(\.line).joined()
        try lines.write(toFile: out + "/events.jsonl", atomically: true, encoding: .utf8)

        let outcome = try XCTUnwrap(try TuneRunner.run(options(nil, out, resume: true)))
        XCTAssertEqual(outcome.end.failures, 1)
        XCTAssertEqual(outcome.end.trials, 12)
        let journal = try String(contentsOfFile: out + "/events.jsonl", encoding: .utf8)
        XCTAssertTrue(journal.contains("crashed its worker twice"), journal)
        XCTAssertEqual(try JournalAudit.check(run: RunDirectory(path: out)), [])
    }

    // MARK: Timeouts and numbers

    func testJobTimeoutsGrowWithTheResourceAJobTrains() {
        let t = JobTimeout(fixed: 10, perUnit: 2)
        let config = TrialConfig()
        XCTAssertEqual(t.limit(for: Job(trial: 0, config: config, rung: 0, resource: 1)), 12)
        XCTAssertEqual(t.limit(for: Job(trial: 0, config: config, rung: 2, resource: 9, resumeFrom: 3)), 22)
        XCTAssertEqual(JobTimeout(fixed: 30).reason(for: Job(trial: 0, config: config, rung: 0, resource: 1)), "no answer within job_timeout (30 s)")
    }

    func testNumbersThatWouldOverflowAreRefusedAtLoadNamingTheirLimit() throws {
        func message(_ scheduler: String, space: String = "lr: {type: loguniform, low: 1.0e-4, high: 1.0}") -> String {
            let text = "scheduler: \(scheduler)\ntrainable: {type: surrogate}\nspace:\n  \(space)\n"
            do { _ = try TuneConfig.parse(text); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("{type: asha, max_resource: 9, time_limit: 1.0e19}"),
                       "scheduler.time_limit: must be at most 1000000000, got 1e+19")
        XCTAssertEqual(message("{type: sha, eta: 2, min_resource: 1, max_resource: 1.0e19}"),
                       "scheduler.max_resource: must be at most 1000000000, got 1e+19")
        XCTAssertEqual(message("{type: asha, max_resource: 9, min_resource: 1.0e-300, max_trials: 5}"),
                       "scheduler.min_resource: gives floor(log_3(9/1e-300)) = 630 rungs; at most 40: raise min_resource or eta")
        XCTAssertEqual(message("{type: sha, eta: 2, min_resource: 1.0e-3, max_resource: 1.0e9}"),
                       "scheduler: eta^39 configurations in one bracket is more than 2147483647: raise min_resource or lower eta")
        XCTAssertEqual(message("{type: random, max_resource: 9, max_trials: 3}", space: "lr: .inf"),
                       "space.lr: must be a finite number, got inf")
        XCTAssertEqual(message("{type: random, max_resource: 9, max_trials: 3}", space: "w: {type: int, low: 0, high: 9223372036854775807}"),
                       "space.w.high: must be between -2^53 and 2^53, got 9223372036854775807")
        XCTAssertEqual(message("{type: random, max_resource: 9, max_trials: 3}", space: "x: {type: uniform, low: -1.0e308, high: 1.0e308}"),
                       "space.x: the range from low to high is too wide to sample (high - low is not finite)")
        XCTAssertEqual(message("{type: asha, max_resource: 9, max_trials: 3000000000}"),
                       "scheduler.max_trials: must be at most 2147483647, got 3000000000")
    }
}
