import CohortFiles
import XCTest
@testable import CohortTune

/// End-to-end runs of the farm with in-process workers (the MPI path is exercised by
/// scripts/checks/tune.sh under mpirun).
final class TuneRunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func writeConfig(_ scheduler: String, trainable: String = "{type: surrogate}", name: String = "t") throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try """
        name: \(name)
        seed: 3
        metric: loss
        mode: min
        scheduler: \(scheduler)
        farm: {job_timeout: 60}
        trainable: \(trainable)
        space:
          lr: {type: loguniform, low: 1.0e-4, high: 1.0}
          width: {type: int, low: 8, high: 64}
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testFarmRunsASHAToTheEndWithALegalJournalAndBestJSON() throws {
        let config = try writeConfig("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 30}")
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 3, progress: false, syncJournal: false)))
        XCTAssertEqual(outcome.end.trials, 30)
        XCTAssertEqual(outcome.end.failures, 0)
        XCTAssertEqual(outcome.busyFraction.keys.sorted(), [1, 2, 3])
        let run = RunDirectory(URL(fileURLWithPath: out))
        XCTAssertEqual(try JournalAudit.check(run: run), [])
        let best = try JSONValue.parse(String(contentsOf: run.bestURL, encoding: .utf8))
        XCTAssertEqual(best["trial"]?.intValue, outcome.best?.trial)
        XCTAssertEqual(best["resource"]?.doubleValue, 9)
        XCTAssertNotNil(best["test_metric"]?.doubleValue)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.checkpoint(trial: outcome.best!.trial, resource: 9).path))
        XCTAssertTrue(outcome.summary.contains("rung 2 (resource 9)"))
        // The copy of the config is what a resume reads.
        XCTAssertEqual(try String(contentsOf: run.configURL, encoding: .utf8), try String(contentsOfFile: config, encoding: .utf8))
    }

    func testFailingTrialsAreRecordedAndTheSearchGoesOn() throws {
        let config = try writeConfig("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 30}",
                                     trainable: "{type: surrogate, failure_rate: 0.3, checkpoints: false}")
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false)))
        XCTAssertGreaterThan(outcome.end.failures, 0)
        XCTAssertEqual(outcome.end.trials, 30)
        let text = try String(contentsOfFile: out + "/events.jsonl", encoding: .utf8)
        XCTAssertTrue(text.contains(#""event":"failed""#) && text.contains("diverged at resource"))
        XCTAssertEqual(try JournalAudit.check(run: RunDirectory(URL(fileURLWithPath: out))), [])
    }

    func testEverySchedulerRunsOnTheFarm() throws {
        for (i, s) in ["{type: sha, eta: 3, min_resource: 1, max_resource: 9}",
                       "{type: hyperband, eta: 3, min_resource: 1, max_resource: 9}",
                       "{type: async_hyperband, eta: 3, min_resource: 1, max_resource: 9, max_trials: 25}",
                       "{type: random, max_resource: 9, max_trials: 6}"].enumerated() {
            let out = dir.appendingPathComponent("run\(i)").path
            let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: try writeConfig(s, trainable: "{type: surrogate, checkpoints: false}"),
                                                                       out: out, workers: 3, progress: false, syncJournal: false)))
            XCTAssertNotNil(outcome.best, s)
            XCTAssertEqual(try JournalAudit.check(run: RunDirectory(URL(fileURLWithPath: out))), [], s)
        }
    }

    func testResumeRerunsOnlyTheInterruptedJobs() throws {
        let config = try writeConfig("{type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 20}")
        let out = dir.appendingPathComponent("run").path
        _ = try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false))
        let run = RunDirectory(URL(fileURLWithPath: out))
        // Simulate a kill: keep the first 25 or more lines (no end, a job in flight),
        // plus half of a line.
        let lines = try String(contentsOf: run.journalURL, encoding: .utf8).split(separator: "\n")
        let space = try TuneConfig.load(contentsOf: run.configURL).space
        var replay: FarmCoordinator.Replay?
        for keep in 25 ..< lines.count - 1 {
            try (lines.prefix(keep).joined(separator: "\n") + "\n" + lines[keep].prefix(20)).write(to: run.journalURL, atomically: true, encoding: .utf8)
            let cut = try JournalContents.read(url: run.journalURL, space: space)
            replay = try FarmCoordinator.replay(cut.events, scheduler: TuneConfig.load(contentsOf: run.configURL).makeScheduler(), mode: .min)
            if replay?.interrupted.isEmpty == false { break }
        }
        let interrupted = try XCTUnwrap(replay?.interrupted)
        XCTAssertFalse(interrupted.isEmpty)

        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(out: out, resume: true, workers: 2, progress: false, syncJournal: false)))
        XCTAssertEqual(outcome.end.trials, 20)
        XCTAssertEqual(try JournalAudit.check(run: run), [])
        let all = try JournalContents.read(url: run.journalURL, space: space).events
        let resumeAt = try XCTUnwrap(all.firstIndex { if case .resume = $0 { return true } else { return false } })
        let restarted = all[resumeAt...].compactMap { e -> [Int]? in if case let .start(s) = e { return [s.job.trial, s.job.rung] } else { return nil } }
        XCTAssertEqual(Array(restarted.prefix(interrupted.count)), interrupted.map { [$0.trial, $0.rung] })
    }

    // MARK: Bad input

    func testAnExistingRunDirectoryIsNeverOverwritten() throws {
        let config = try writeConfig("{type: asha, max_resource: 9, max_trials: 3}")
        let out = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try "precious".write(to: out.appendingPathComponent("events.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TuneRunner.run(TuneOptions(configPath: config, out: out.path, workers: 1, progress: false))) { e in
            XCTAssertEqual("\(e)", "run directory \(out.standardizedFileURL.path) already exists; use --resume to continue it, or choose another --out")
        }
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("events.jsonl"), encoding: .utf8), "precious")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["events.jsonl"])
    }

    func testBadConfigsFailBeforeAnythingIsWritten() throws {
        let out = dir.appendingPathComponent("run").path
        let bad = try writeConfig("{type: asha, eta: 1, min_resource: 3, max_resource: 1, max_trials: 3}", name: "bad")
        XCTAssertThrowsError(try TuneRunner.run(TuneOptions(configPath: bad, out: out, workers: 1, progress: false))) { e in
            XCTAssertEqual("\(e)", "scheduler.eta: must be at least 2, got 1\nscheduler: min_resource (3) is greater than max_resource (1)")
        }
        XCTAssertThrowsError(try TuneRunner.run(TuneOptions(configPath: dir.appendingPathComponent("missing.yaml").path, out: out, workers: 1))) { e in
            XCTAssertTrue("\(e)".hasSuffix("missing.yaml: cannot be read (no such file, or no permission)"), "\(e)")
        }
        XCTAssertThrowsError(try TuneRunner.run(TuneOptions(out: out, resume: true, workers: 1))) { e in
            XCTAssertTrue("\(e)".contains("cannot be resumed: no config.yaml and events.jsonl there"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
