import CohortFiles
import CohortCluster
import CohortTensor
import CohortTune
import XCTest
@testable import CohortNAS

/// `cohort nas search` and `cohort nas retrain` as library calls: the run directory,
/// retraining on the job farm, and configs that cannot be used.
final class RunTests: XCTestCase {
    func testSearchWritesTheRunDirectoryAndRetrainsOnTheFarm() throws {
        let config = try tinyConfig(.rsws)
        let out = temporaryDirectory("rsws")
        defer { try? FileManager.default.removeItem(at: out) }
        // Two ranks: they train the supernet together, then rank 0 coordinates the farm
        // and rank 1 retrains both candidates.
        let outcomes = try LocalCommunicator.map(ranks: 2) { comm in
            try NASSearchRun.run(.init(config: config, out: out.path), communicator: comm, log: { _ in })
        }
        XCTAssertEqual(outcomes[0].chosen, outcomes[1].chosen)
        let o = outcomes[0]
        for file in ["config.yaml", "supernet.safetensors", "supernet.jsonl", "sampled-architectures.jsonl", "scores.jsonl",
                     "candidates.json", "chosen.json", "retrained.safetensors", "retrained.json", "summary.json", "retrain/events.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        XCTAssertEqual(o.candidates.count, 3, "rescoreTop")
        XCTAssertEqual(o.retrained?.count, 2, "retrain.top")
        let retrained = try XCTUnwrap(o.retrained)
        XCTAssertEqual(retrained.map(\.architecture), o.candidates.prefix(2).map(\.architecture))
        let best = retrained.max { $0.validationAccuracy! < $1.validationAccuracy! }!
        XCTAssertEqual(o.chosen, best.architecture)
        XCTAssertEqual(o.chosenTestAccuracy, best.testAccuracy)
        XCTAssertNil(outcomes[1].retrained)

        // The chosen file reads back as the architecture; the farm journal is complete.
        XCTAssertEqual(try CellArchitecture(argument: out.appendingPathComponent("chosen.json").path), o.chosen)
        let journal = try String(contentsOf: out.appendingPathComponent("retrain/events.jsonl"), encoding: .utf8)
        XCTAssertEqual(journal.components(separatedBy: "\"event\":\"result\"").count - 1, 2)
        let sampled = try String(contentsOf: out.appendingPathComponent("sampled-architectures.jsonl"), encoding: .utf8)
        XCTAssertEqual(sampled.split(separator: "\n").count, o.supernet.steps)

        // The farm's retraining is exactly `cohort nas retrain` with the same config.
        let alone = try NASRetrainRun.run(o.chosen, config: config, communicator: LocalCommunicator.single())
        XCTAssertEqual(alone.testAccuracy, o.chosenTestAccuracy)
        let checkpoint = try Checkpoint.read(from: out.appendingPathComponent("retrained.safetensors"))
        XCTAssertEqual(checkpoint.metadata["weights_digest"], alone.weightsDigest)
        XCTAssertEqual(checkpoint.metadata["architecture"], o.chosen.nasBench201String)

        // A finished run directory is never overwritten.
        XCTAssertThrowsError(try NASSearchRun.run(.init(config: config, out: out.path), communicator: LocalCommunicator.single(), log: { _ in })) {
            XCTAssertTrue("\($0)".contains("already exists; choose another --out"), "\($0)")
        }
    }

    func testGAEASearchRecordsWeightsAndRetrainsTheDerivedCell() throws {
        let config = try tinyConfig(.gaea)
        let out = temporaryDirectory("gaea")
        defer { try? FileManager.default.removeItem(at: out) }
        // One rank: the farm runs on retrain.workers in-process workers.
        let o = try NASSearchRun.run(.init(config: config, out: out.path), communicator: LocalCommunicator.single(), log: { _ in })
        XCTAssertEqual(o.candidates.map(\.architecture), [o.supernet.derived!.canonical])
        XCTAssertEqual(o.retrained?.map(\.architecture), [o.supernet.derived!.canonical])
        XCTAssertEqual(o.chosen, o.supernet.derived!.canonical)
        let lines = try String(contentsOf: out.appendingPathComponent("architecture-weights.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4, "steps 0, 2, 4, 6")
        let last = try JSONValue.parse(String(lines.last!))
        XCTAssertEqual(last["step"]?.intValue, 6)
        let rows = try XCTUnwrap(last["weights"]?.arrayValue)
        XCTAssertEqual(rows.count, 6)
        for (row, expected) in zip(rows, o.supernet.architectureWeights!) {
            XCTAssertEqual(row.arrayValue?.compactMap(\.doubleValue), expected)
        }
        let summary = try JSONValue.parse(String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8))
        XCTAssertEqual(summary["architecture_weights_digest"]?.stringValue, o.supernet.architectureDigest)
        XCTAssertNotNil(summary["search_cost_in_trainings"]?.doubleValue)

        // The files read back through the records the report uses.
        let weights = NASRunFiles.WeightsLine(json: last)
        XCTAssertEqual(weights.step, 6)
        XCTAssertEqual(weights.weights, o.supernet.architectureWeights)
        XCTAssertNotNil(weights.derived)
        let read = NASRunFiles.Summary(json: summary)
        XCTAssertEqual(read.strategy, "gaea")
        XCTAssertEqual(read.chosen, o.chosen.nasBench201String)
        XCTAssertEqual(read.chosenTestAccuracy, o.chosenTestAccuracy)
        XCTAssertEqual(read.retrained.map(\.architecture), o.retrained?.map(\.architecture.nasBench201String))
        XCTAssertEqual(read.retrained.map(\.testAccuracy), o.retrained?.map(\.testAccuracy))
    }

    func testSkippingRetrainingChoosesTheBestSharedWeightScore() throws {
        let config = try tinyConfig(.darts)
        let out = temporaryDirectory("darts")
        defer { try? FileManager.default.removeItem(at: out) }
        let o = try NASSearchRun.run(.init(config: config, out: out.path, retrain: false), communicator: LocalCommunicator.single(), log: { _ in })
        XCTAssertNil(o.retrained)
        XCTAssertEqual(o.chosen, o.candidates[0].architecture)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("retrained.safetensors").path))
        XCTAssertTrue(o.summary.contains("chosen: \(o.chosen)"))
    }

    // MARK: Bad input

    func testConfigErrorsNameTheKey() {
        let cases: [(String, String)] = [
            ("strategy: {type: enas}", "strategy.type: unknown value 'enas' (expected one of rsws, gaea, darts)"),
            ("strategy: {type: gaea, eta: -1}", "strategy.eta: must be greater than 0, got -1"),
            ("strategy: {type: gaea, rounds: 2}", "strategy.rounds: unknown key (keys here: adapt_step, clamp, derive_from, entropy_weight, eta, single_level, step_order, type, warmup_epochs)"),
            ("strategy: {}", "strategy.type: is missing (one of rsws, gaea, darts)"),
            ("seed: 1", "strategy: is missing (type: rsws, gaea, darts)"),
            ("strategy: {type: rsws}\nsearch: {batch_size: 0}", "search.batch_size: must be at least 1, got 0"),
            ("strategy: {type: rsws}\nsearch: {batchSize: 8}", "search.batchSize: unknown key; did you mean batch_size?"),
            ("strategy: {type: rsws}\nnetwork: {cells: two}", "network.cells: must be a list of whole numbers, got a string"),
            ("strategy: {type: rsws}\nretrain: {optimizer: {type: lbfgs}}", "retrain.optimizer.type: unknown value 'lbfgs' (expected one of sgd, adam, adamw)"),
            ("strategy: {type: rsws}\nretrain: {optimizer: {kind: sgd}}", "retrain.optimizer.kind: unknown key; did you mean type?"),
            ("strategy: {type: rsws}\nsearh: {}", "searh: unknown key; did you mean search?"),
            ("strategy: [rsws", "config: is not valid YAML or JSON"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try NASConfig.parse(text), text) { error in
                XCTAssertTrue(error is ConfigError, "\(type(of: error))")
                XCTAssertTrue("\(error)".hasPrefix(message), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
            }
        }
    }

    func testUnknownDatasetIsOneInputError() throws {
        var config = try tinyConfig(.rsws)
        config.dataset = "no-such-data"
        XCTAssertThrowsError(try NASData.search(config)) { error in
            XCTAssertTrue(error is NASInputError)
            XCTAssertTrue("\(error)".contains("no-such-data"), "\(error)")
        }
    }
}
