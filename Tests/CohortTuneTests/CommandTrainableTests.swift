import CohortCluster
import CohortFiles
import XCTest
@testable import CohortTune

/// A user's program as the trainable, run by in-process workers (scripts/checks/command.sh
/// runs Python programs under mpirun).
final class CommandTrainableTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A per-job program in sh: its state file records the trial and resource it was
    /// saved at, and a promoted job refuses (exit 9) a checkpoint that is not its
    /// trial's previous one. Fails (exit 3) for lr > 0.5.
    func writeProgram() throws -> String {
        let url = dir.appendingPathComponent("train.sh")
        try #"""
        #!/bin/sh
        lr="$2"
        if [ -n "$COHORT_CHECKPOINT_IN" ]; then
          [ "$(cat "$COHORT_CHECKPOINT_IN/state")" = "$COHORT_TRIAL $COHORT_PREVIOUS_RESOURCE" ] || { echo "wrong checkpoint" >&2; exit 9; }
        fi
        case "$lr" in 0.[6-9]*) echo "lr $lr is too large" >&2; exit 3 ;; esac
        echo "$COHORT_TRIAL $COHORT_RESOURCE" > "$COHORT_CHECKPOINT_OUT/state"
        echo "$COHORT_TRIAL $COHORT_RUNG $COHORT_RESOURCE ${COHORT_CHECKPOINT_IN:-new}" >> "$LOG"
        echo "training trial $COHORT_TRIAL"
        printf '{"metric": %s, "seed": %s, "test_metric": 0.5}\n' "$(awk "BEGIN{print $lr + 1 / $COHORT_RESOURCE}")" "$COHORT_SEED" > "$COHORT_RESULT"
        """#.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func writeConfig(trainable: String, maxTrials: Int = 12, lr: String = "{type: uniform, low: 0.0, high: 1.0}", space more: String = "") throws -> String {
        let url = dir.appendingPathComponent("c.yaml")
        try """
        name: c
        seed: 5
        metric: loss
        mode: min
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: \(maxTrials)}
        trainable: \(trainable)
        space:
          lr: \(lr)
        \(more)
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testASHAOverAProgramHandsEachPromotionItsTrialsCheckpoint() throws {
        let program = try writeProgram()
        let log = dir.appendingPathComponent("log").path
        let config = try writeConfig(trainable: "{type: command, command: [/bin/sh, \(program)], environment: {LOG: \(log)}, timeout: 30}")
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 3, progress: false, syncJournal: false)))
        let run = RunDirectory(URL(fileURLWithPath: out))
        XCTAssertEqual(try JournalAudit.check(run: run), [])
        let events = try JournalContents.read(url: run.journalURL, space: try TuneConfig.parse(String(contentsOfFile: config, encoding: .utf8)).space).events
        var failures: [String] = [], promotions = 0
        for case let .failed(f) in events { failures.append(f.reason ?? "") }
        for case let .start(s) in events where s.job.resumeFrom != nil { promotions += 1 }
        XCTAssertGreaterThan(promotions, 0)
        XCTAssertEqual(failures.count, outcome.end.failures)
        XCTAssertGreaterThan(failures.count, 0, "some lr > 0.5 among 12 trials")
        for reason in failures {
            XCTAssertTrue(reason.hasPrefix("the program exited with status 3; its stderr ends:\n"), reason)
            XCTAssertTrue(reason.hasSuffix(" is too large"), reason)
        }
        // Every job ran once; promotions started from their trial's previous checkpoint.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, outcome.end.results - outcome.end.failures)
        XCTAssertEqual(Set(lines).count, lines.count)
        for line in lines where !line.hasSuffix(" new") {
            let f = line.split(separator: " ")
            XCTAssertTrue(f[3].hasSuffix(String(format: "trial-%06d/r-%@.ckpt", Int(f[0])!, String(Int(f[2])! / 3))), String(line))
        }
        // Extra numbers are journaled; the seed is the trial's.
        for case let .result(r) in events {
            XCTAssertEqual(r.metrics["seed"], Double(CommandTrainableFactory.seed(experiment: 5, trial: r.trial)))
            XCTAssertEqual(r.metrics["test_metric"], 0.5)
        }
        // The best trial's test metric comes from its job's result; logs are kept per job.
        XCTAssertEqual(outcome.best?.testMetric, 0.5)
        let best = try XCTUnwrap(outcome.best)
        let stdout = try String(contentsOf: run.jobFile(trial: best.trial, rung: best.rung, "stdout"), encoding: .utf8)
        XCTAssertTrue(stdout.hasSuffix("training trial \(best.trial)\n"), stdout)
        // The run event names the program and its digest.
        guard case let .run(info)? = events.first else { return XCTFail("no run event") }
        XCTAssertEqual(info.trainable?["files"]?[program]?.stringValue, try SHA256.hexDigest(ofFile: program))
        XCTAssertEqual(info.trainable?["mode"]?.stringValue, "per_job")
    }

    func testHangsAreKilledAtTheTimeoutAndRetriedOnceWhenAsked() throws {
        let program = dir.appendingPathComponent("hang.sh")
        try "#!/bin/sh\nsleep 100\n".write(to: program, atomically: true, encoding: .utf8)
        let config = try writeConfig(trainable: "{type: command, command: [/bin/sh, \(program.path)], timeout: 0.3, on_timeout: retry}", maxTrials: 2)
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false)))
        XCTAssertEqual(outcome.end.failures, 2)
        let text = try String(contentsOfFile: out + "/events.jsonl", encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: #""event":"lost""#).count - 1, 2, "one retry per job")
        XCTAssertEqual(text.components(separatedBy: "the program timed out after").count - 1, 4)
        XCTAssertTrue(text.contains("running it once more (on_timeout: retry)"))
    }

    func testHyperparametersCanComeAsAJSONFile() throws {
        let program = dir.appendingPathComponent("json.sh")
        // The metric is read back from the configuration file the job was given.
        try #"""
        #!/bin/sh
        [ "$#" -eq 0 ] || { echo "flags passed: $*" >&2; exit 5; }
        lr="$(tr -d ' \n' < "$COHORT_HYPERPARAMETERS" | sed -e 's/.*"lr":\([0-9.e-]*\).*/\1/')"
        printf '{"metric": %s}\n' "$lr" > "$COHORT_RESULT"
        """#.write(to: program, atomically: true, encoding: .utf8)
        let config = try writeConfig(trainable: "{type: command, command: [/bin/sh, \(program.path)], hyperparameters: json}", maxTrials: 4)
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false)))
        XCTAssertEqual(outcome.end.failures, 0)
        let best = try XCTUnwrap(outcome.best)
        XCTAssertEqual(best.metric, best.config.double("lr", default: -1), accuracy: 1e-12)
    }

    func testPersistentWorkersServeEveryJobOfTheirRank() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("examples/command/quadratic_persistent.py").path
        let log = dir.appendingPathComponent("log").path
        let config = try writeConfig(trainable: "{type: command, mode: persistent, command: [python3, \(script)], environment: {QUADRATIC_LOG: \(log)}, timeout: 60}",
                                     lr: "{type: loguniform, low: 1.0e-3, high: 0.1}", space: "  momentum: {type: uniform, low: 0.0, high: 0.9}")
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false)))
        let run = RunDirectory(URL(fileURLWithPath: out))
        XCTAssertEqual(try JournalAudit.check(run: run), [])
        XCTAssertEqual(outcome.end.failures, 0)
        XCTAssertNotNil(outcome.best?.testMetric)
        // One process per worker served all its jobs: one log pair per worker, one line per job.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.workersURL.path).sorted(),
                       ["worker-1.stderr", "worker-1.stdout", "worker-2.stderr", "worker-2.stdout"])
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count, outcome.end.results)
    }

    func testResultsThatCannotBeUsedAreFailuresWithTheirReason() throws {
        XCTAssertThrowsError(try CommandJob.parseResult(#"{"metric": NaN, "loss": 1}"#, source: "r")) { XCTAssertEqual("\($0)", "metric is nan") }
        XCTAssertThrowsError(try CommandJob.parseResult(#"{"metric": -Infinity}"#, source: "r")) { XCTAssertEqual("\($0)", "metric is -inf") }
        XCTAssertThrowsError(try CommandJob.parseResult("metric=3", source: "r")) { XCTAssertEqual("\($0)", "r is not JSON: metric=3") }
        let url = dir.appendingPathComponent("stdout")
        try "== trial 1 ==\ncohort-result: {\"metric\": 1}\n== trial 1 again ==\nnoise\ncohort-result: {\"metric\": 2}\nbye\n"
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(CommandJob.resultLine(inFile: url.path), #" {"metric": 2}"#)
        try "== trial 1 ==\ncohort-result: {\"metric\": 1}\n== trial 1 again ==\nnothing\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertNil(CommandJob.resultLine(inFile: url.path), "an earlier attempt's result is not this one's")
    }

    func testTheSectionIsCheckedBeforeAnythingRuns() throws {
        func problems(_ trainable: String) -> String {
            do {
                _ = try TuneConfig.parse(String(contentsOfFile: try writeConfig(trainable: trainable), encoding: .utf8))
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(problems("{type: command}").contains("trainable.command: is missing"))
        XCTAssertTrue(problems("{type: command, command: python3 train.py}").contains("trainable.command: must be a non-empty list"))
        XCTAssertTrue(problems("{type: command, command: [no-such-program-xyz]}").contains("trainable.command: no-such-program-xyz is not found in PATH"))
        XCTAssertTrue(problems("{type: command, command: [/bin/sh], on_timeout: retry}").contains("trainable.on_timeout: retry needs a timeout"))
        XCTAssertTrue(problems("{type: command, command: [/bin/sh], environment: {OMPI_COMM_WORLD_RANK: 1}}").contains("OMPI_COMM_WORLD_RANK belongs to the MPI launcher"))
        XCTAssertTrue(problems("{type: command, command: [/bin/sh], mode: daemon}").contains("trainable.mode"))
        XCTAssertTrue(problems("{type: command, command: [/bin/sh], timeout: -1}").contains("trainable.timeout: must be greater than 0"))
        XCTAssertTrue(problems("{type: command, command: [/bin/sh], working_directory: /no/such/dir}").contains("/no/such/dir is not a directory"))
        XCTAssertEqual(problems("{type: command, command: [/bin/sh, -c, 'exit 0'], hyperparameters: json}"), "accepted")
    }

    func testSeedsAndFlagsAreStable() {
        // Pure functions of (experiment seed, trial): the same on every worker and every run.
        XCTAssertEqual((0..<4).map { CommandTrainableFactory.seed(experiment: 1, trial: $0) },
                       (0..<4).map { CommandTrainableFactory.seed(experiment: 1, trial: $0) })
        XCTAssertNotEqual(CommandTrainableFactory.seed(experiment: 1, trial: 0), CommandTrainableFactory.seed(experiment: 2, trial: 0))
        XCTAssertTrue((0..<1000).allSatisfy { (0..<(1 << 31)).contains(CommandTrainableFactory.seed(experiment: 9, trial: $0)) })
        let config = TrialConfig(["lr": .double(0.0031), "batch": .int(64), "opt": .string("adam"), "nesterov": .bool(true)])
        XCTAssertEqual(CommandTrainableFactory.flags(config), ["--lr", "0.0031", "--batch", "64", "--opt", "adam", "--nesterov", "true"])
    }

    func testDevicesAreSpreadOverEachHostsWorkers() {
        let hosts = ["a", "a", "a", "b", "b", "b"]
        XCTAssertEqual((0..<6).map { DevicePlacement.localWorkerIndex(rank: $0, hosts: hosts) }, [nil, 0, 1, 0, 1, 2])
        let two = DevicePlacement(source: .list(["0", "1"]), perTrial: 1)
        XCTAssertEqual((0..<3).map { two.devices(forWorker: $0, of: ["0", "1"]) }, [["0"], ["1"], ["0"]])
        let pairs = DevicePlacement(source: .list(["0", "1", "2", "3"]), perTrial: 2)
        XCTAssertEqual(pairs.devices(forWorker: 1, of: ["0", "1", "2", "3"]), ["2", "3"])
        XCTAssertEqual(DevicePlacement.environment(["2", "3"]), ["CUDA_VISIBLE_DEVICES": "2,3"])
        XCTAssertEqual(DevicePlacement.environment([]), [:], "no devices: nothing is set")
        XCTAssertEqual(DevicePlacement().hostDevices(environment: ["CUDA_VISIBLE_DEVICES": "4, 6"]), ["4", "6"])
        XCTAssertEqual(DevicePlacement().hostDevices(environment: ["CUDA_VISIBLE_DEVICES": "-1"]), [])
        XCTAssertEqual(DevicePlacement(source: .none).hostDevices(environment: ["CUDA_VISIBLE_DEVICES": "0"]), [])
    }

    func testTheFarmSectionReadsDevices() throws {
        let issues = ConfigIssues()
        let farm = FarmSettings(ConfigSection(try ConfigDocument.parse("devices: [0, 1]\ndevices_per_trial: 2\n"), path: "farm", issues: issues))
        XCTAssertEqual(farm.devices, DevicePlacement(source: .list(["0", "1"]), perTrial: 2))
        XCTAssertTrue(issues.isEmpty)
        _ = FarmSettings(ConfigSection(try ConfigDocument.parse("devices: gpus\n"), path: "farm", issues: issues))
        XCTAssertEqual(issues.list.map(\.description), [#"farm.devices: must be auto, none or a list of device ids, got "gpus""#])
    }
}
