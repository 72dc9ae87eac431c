import CohortFiles
import XCTest
import CohortTensor
@testable import CohortTune

/// The real trainables (`mlp`, `cnn`) on the embedded digits: exact pause and resume,
/// divergence as a failed trial, the test metric in best.json, and config checks.
final class NetworkTrainableTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("net-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    // MARK: Helpers

    /// A factory for `kind` on digits with the trainable section `section` (JSON).
    func factory(_ kind: String = "mlp", section: String = #"{"dataset": "digits"}"#, space: String,
                 mode: MetricMode = .max, maxResource: Double = 9, seed: UInt64 = 5) throws -> NetworkTrainableFactory {
        let space = try SearchSpace(json: try JSONValue.parse(space))
        var fields = try XCTUnwrap(try JSONValue.parse(section).objectMembers)
        fields.insert(("type", .string(kind)), at: 0)
        let context = TrainableContext(space: space, seed: seed, mode: mode, maxResource: maxResource)
        let made = try TrainableCatalog.standard.makeFactory(.object(fields), context: context)
        return try XCTUnwrap(made as? NetworkTrainableFactory)
    }

    func network(_ f: NetworkTrainableFactory, trial: Int, _ config: KeyValuePairs<String, ParameterValue>) throws -> NetworkTrainable {
        try XCTUnwrap(try f.make(trial: trial, config: TrialConfig(config)) as? NetworkTrainable)
    }

    /// Every bit of the training state: parameters, buffers, optimizer buffers and step.
    func state(_ n: NetworkTrainable) -> [UInt32] {
        var bits = n.trainer.model.parameters.flat.map(\.bitPattern) + n.trainer.model.state.flat.map(\.bitPattern)
        for (_, buffer) in n.trainer.optimizer.state { bits += buffer.flat.map(\.bitPattern) }
        return bits + [UInt32(n.step)]
    }

    /// Trains `config` to `split` and (from the checkpoint, in a fresh trainable) on
    /// to `end`, and to `end` in one go; asserts the two end states are bit-identical
    /// and that the run really moved past the split.
    func assertResumeIsExact(_ f: NetworkTrainableFactory, _ config: KeyValuePairs<String, ParameterValue>,
                             split: Double, end: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = dir.appendingPathComponent("t7-\(split).ckpt")
        let first = try network(f, trial: 7, config)
        try first.train(to: split)
        _ = try first.evaluate() // as a job does before saving: must not disturb the state
        try first.save(to: url)
        let atSplit = state(first)

        let resumed = try network(f, trial: 7, config)
        try resumed.restore(from: url, resource: split)
        XCTAssertEqual(state(resumed), atSplit, "restore", file: file, line: line)
        try resumed.train(to: end)

        let whole = try network(f, trial: 7, config)
        try whole.train(to: end)

        XCTAssertEqual(whole.step, f.steps(for: end, batchSize: whole.hyperparameters.batchSize), file: file, line: line)
        XCTAssertEqual(resumed.step, whole.step, file: file, line: line)
        XCTAssertNotEqual(state(resumed), atSplit, file: file, line: line)
        XCTAssertTrue(state(resumed) == state(whole), "resumed training differs from uninterrupted training", file: file, line: line)
        XCTAssertEqual(try resumed.evaluate(), try whole.evaluate(), file: file, line: line)
        XCTAssertEqual(resumed.trainedResource, end, file: file, line: line)
    }

    // MARK: Pause and resume

    func testResumingAtEpoch3AndTrainingTo9EqualsTrainingTo9() throws {
        let f = try factory(space: #"{"learning_rate": 0.05, "dropout": 0.3, "width": 32}"#)
        // 1,348 - 135 held out = 1,213 training samples at batch 100: 12 steps an
        // epoch, the last 13 samples dropped.
        XCTAssertEqual(f.data.train.count, 1213)
        XCTAssertEqual(f.batchesPerEpoch(batchSize: 100), 12)
        try assertResumeIsExact(f, ["learning_rate": .double(0.05), "momentum": .double(0.9), "dropout": .double(0.3),
                                    "batch_size": .int(100), "width": .int(32), "depth": .int(2)], split: 3, end: 9)
    }

    func testResumingInTheMiddleOfAnEpochWithAdamIsExact() throws {
        // Resource in optimizer steps: 25 steps stop in the third epoch of 12 steps.
        let f = try factory(section: #"{"dataset": "digits", "resource": "iterations", "schedule": "cosine"}"#,
                            space: #"{"optimizer": "adam", "dropout": 0.2}"#, maxResource: 60)
        try assertResumeIsExact(f, ["optimizer": .string("adam"), "learning_rate": .double(0.003), "dropout": .double(0.2),
                                    "batch_size": .int(100), "width": .int(24), "batch_norm": .bool(true)], split: 25, end: 43)
    }

    func testResumingACNNIsExact() throws {
        let f = try factory("cnn", section: #"{"dataset": "digits", "resource": "iterations"}"#, space: #"{"filters": 4}"#, maxResource: 30)
        try assertResumeIsExact(f, ["filters": .int(4), "dense": .int(16), "batch_size": .int(64), "dropout": .double(0.1)],
                                split: 8, end: 20)
    }

    func testARestoredCheckpointMustBelongToTheTrial() throws {
        let f = try factory(space: #"{"width": 16}"#)
        let url = dir.appendingPathComponent("a.ckpt")
        let a = try network(f, trial: 1, ["width": .int(16)])
        try a.train(to: 1)
        try a.save(to: url)
        XCTAssertThrowsError(try network(f, trial: 2, ["width": .int(16)]).restore(from: url, resource: 1)) { e in
            XCTAssertTrue("\(e)".contains("it belongs to trial 1 (width=16), not trial 2 (width=16)"), "\(e)")
        }
        XCTAssertThrowsError(try network(f, trial: 1, ["width": .int(16)]).restore(from: url, resource: 2)) { e in
            XCTAssertTrue("\(e)".contains("it holds 18 optimizer steps, but resource 2 is 36 steps"), "\(e)")
        }
    }

    // MARK: Identity of a trial

    func testATrialIsTheSameWhereverItIsBuiltAndTrialsDiffer() throws {
        let f = try factory(space: #"{"width": 16}"#)
        let a = try network(f, trial: 3, ["width": .int(16)]), b = try network(f, trial: 3, ["width": .int(16)])
        let c = try network(f, trial: 4, ["width": .int(16)])
        XCTAssertEqual(state(a), state(b))
        XCTAssertNotEqual(state(a), state(c))
        try a.train(to: 2)
        try b.train(to: 2)
        XCTAssertEqual(state(a), state(b))
        XCTAssertEqual(try a.evaluate(), try b.evaluate())
    }

    func testHyperparametersShapeTheNetworkAndTheOptimizer() throws {
        let f = try factory(space: #"{"width": 16}"#)
        let n = try network(f, trial: 0, ["depth": .int(3), "width": .int(20), "width_2": .int(7), "batch_size": .int(50),
                                          "optimizer": .string("sgd"), "momentum": .double(0), "weight_decay": .double(1e-4)])
        XCTAssertEqual(n.hyperparameters.hiddenSizes, [20, 7, 20])
        // 64-20-7-20-10 with biases.
        XCTAssertEqual(n.trainer.model.parameterCount, 64 * 20 + 20 + 20 * 7 + 7 + 7 * 20 + 20 + 20 * 10 + 10)
        XCTAssertEqual(n.trainer.batchSize, 50)
        XCTAssertEqual(n.batchesPerEpoch, 24)
        XCTAssertTrue(n.trainer.optimizer.state.isEmpty) // no momentum buffer
        XCTAssertEqual(f.steps(for: 1.5, batchSize: 50), 36)
        let iterations = try factory(section: #"{"dataset": "digits", "resource": "iterations"}"#, space: #"{"width": 16}"#)
        XCTAssertEqual(iterations.steps(for: 40, batchSize: 50), 40)
    }

    // MARK: Metrics

    func testTheMetricIsValidationAccuracyOrLossAndTheSplitsAreDisjointAndSeeded() throws {
        let acc = try factory(space: #"{"width": 16}"#)
        let loss = try factory(section: #"{"dataset": "digits", "metric": "loss", "validation_fraction": 0.25}"#,
                               space: #"{"width": 16}"#, mode: .min)
        XCTAssertEqual(acc.data.validation.count, 135)   // 10% of 1,348, the default
        XCTAssertEqual(acc.data.train.count + acc.data.validation.count, 1348)
        XCTAssertEqual(acc.data.test.count, 449)
        XCTAssertEqual([acc.data.train.name, acc.data.validation.name, acc.data.test.name], ["digits/train", "digits/validation", "digits/test"])
        XCTAssertEqual(loss.data.validation.count, 337)
        let other = try factory(space: #"{"width": 16}"#, seed: 6)
        XCTAssertNotEqual(other.data.validation.features, acc.data.validation.features)

        let a = try network(acc, trial: 0, ["width": .int(32), "learning_rate": .double(0.1)])
        try a.train(to: 4)
        let accuracy = try a.evaluate()
        XCTAssertEqual(accuracy, try a.scores(on: acc.data.validation).accuracy)
        XCTAssertGreaterThan(accuracy, 0.85)
        let test = try XCTUnwrap(try a.testMetric())
        XCTAssertEqual(test, try a.scores(on: acc.data.test).accuracy)
        XCTAssertGreaterThan(test, 0.85)

        let l = try network(loss, trial: 0, ["width": .int(32), "learning_rate": .double(0.1)])
        let before = try l.evaluate()
        try l.train(to: 4)
        let after = try l.evaluate()
        XCTAssertLessThan(after, before)
        XCTAssertLessThan(after, 0.6)
        XCTAssertEqual(after, try l.scores(on: loss.data.validation).loss)
    }

    func testADivergingTrialThrowsInsteadOfReportingANumber() throws {
        let f = try factory(space: #"{"width": 16}"#)
        let n = try network(f, trial: 0, ["width": .int(16), "learning_rate": .double(1e30)])
        XCTAssertThrowsError(try n.train(to: 2)) { e in
            XCTAssertTrue(e is TrainingDiverged, "\(e)")
            XCTAssertTrue("\(e)".hasPrefix("trial 0 diverged: training loss is "), "\(e)")
        }
    }

    // MARK: Searches

    func writeConfig(_ body: String) throws -> String {
        let url = dir.appendingPathComponent("search.yaml")
        try body.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testASearchRecordsADivergedTrialAsFailedAndGoesOnToAGoodBestWithItsTestAccuracy() throws {
        let config = try writeConfig("""
        name: digits
        seed: 2
        metric: val_accuracy
        mode: max
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 3, max_trials: 6}
        trainable: {type: mlp, dataset: digits, validation_fraction: 0.2}
        space:
          learning_rate: {type: grid, values: [0.1, 1.0e+30, 0.03]}
          width: 32
          batch_size: 32
        """)
        let out = dir.appendingPathComponent("run").path
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: config, out: out, workers: 2, progress: false, syncJournal: false)))
        XCTAssertEqual(outcome.end.trials, 6)
        XCTAssertEqual(outcome.end.failures, 2) // trials 1 and 4 have the exploding rate
        let run = RunDirectory(URL(fileURLWithPath: out))
        XCTAssertEqual(try JournalAudit.check(run: run), [])
        let journal = try String(contentsOf: run.journalURL, encoding: .utf8)
        XCTAssertEqual(journal.components(separatedBy: #""event":"failed""#).count - 1, 2)
        XCTAssertTrue(journal.contains("diverged: training loss is"))

        let best = try XCTUnwrap(outcome.best)
        XCTAssertEqual(best.rung, 1)
        XCTAssertNotEqual(best.config["learning_rate"], .double(1e30))
        let json = try JSONValue.parse(String(contentsOf: run.bestURL, encoding: .utf8))
        let test = try XCTUnwrap(json["test_metric"]?.doubleValue)
        XCTAssertGreaterThan(test, 0.9)
        // best.json's test metric is the accuracy of the best trial's checkpoint on the test split.
        let f = try TuneConfig.load(contentsOf: run.configURL).makeTrainableFactory()
        let n = try XCTUnwrap(try f.make(trial: best.trial, config: best.config) as? NetworkTrainable)
        try n.restore(from: run.checkpoint(trial: best.trial, resource: 3), resource: 3)
        XCTAssertEqual(test, try n.scores(on: n.factory.data.test).accuracy)
    }

    // MARK: Bad input

    func assertConfigError(_ kind: String = "mlp", section: String = #"{"dataset": "digits"}"#, space: String,
                           mode: MetricMode = .max, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try factory(kind, section: section, space: space, mode: mode), file: file, line: line) { e in
            XCTAssertEqual("\(e)", expected, file: file, line: line)
        }
    }

    func testSpacesTheNetworkCannotUseAreRejectedWithEveryProblemNamed() {
        assertConfigError(space: #"{"lr": 0.1, "dropout": {"type": "uniform", "low": 0, "high": 1}, "batch_size": {"type": "loguniform", "low": 16, "high": 256}}"#,
                          """
                          space.lr: is not a hyperparameter of the mlp trainable (it reads learning_rate, momentum, weight_decay, batch_size, dropout, optimizer, activation, depth, width, batch_norm, width_1, width_2, ...)
                          space.dropout: must be a number in [0, 1); the range reaches 1
                          space.batch_size: must be a whole number from 1 to 16777216: use type int or a choice of whole numbers
                          """)
        assertConfigError(space: #"{"optimizer": {"type": "choice", "values": ["sgd", "rmsprop"]}, "learning_rate": {"type": "uniform", "low": 0, "high": 1}}"#,
                          """
                          space.optimizer: must be one of sgd, adam, adamw, got rmsprop
                          space.learning_rate: must be a number above 0; the range reaches 0
                          """)
        assertConfigError("cnn", space: #"{"depth": 2}"#,
                          "space.depth: is not a hyperparameter of the cnn trainable (it reads learning_rate, momentum, weight_decay, batch_size, dropout, optimizer, filters, dense)")
    }

    func testSectionProblemsAndAMissingDatasetAreConfigErrors() {
        assertConfigError(section: #"{"dataset": "digits", "resource": "steps", "epochs": 3}"#, space: #"{"width": 8}"#,
                          """
                          trainable.resource: unknown value 'steps' (expected one of epochs, iterations)
                          trainable.epochs: unknown key (keys here: data_dir, dataset, metric, resource, schedule, threads, type, validation_fraction)
                          """)
        assertConfigError(section: #"{"dataset": "digits", "metric": "accuracy"}"#, space: #"{"width": 8}"#, mode: .min,
                          "trainable.metric: validation accuracy is maximised: set mode: max (the config says mode: min)")
        assertConfigError(section: "{}", space: #"{"width": 8}"#, "trainable.dataset: is missing")
        let missing = dir.appendingPathComponent("nowhere").path
        assertConfigError(section: #"{"dataset": "fashion-mnist", "data_dir": "\#(missing)"}"#, space: #"{"width": 8}"#,
                          "trainable.dataset: \(missingDatasetMessage(missing))")
    }

    /// What CohortData says about a missing directory (its wording, not ours).
    func missingDatasetMessage(_ path: String) -> String {
        do { _ = try TuningData.load(dataset: "fashion-mnist", dataDirectory: path, validationFraction: 0.1, seed: 0); return "loaded?" }
        catch { return "\(error)" }
    }
}
