import CohortFiles
import Foundation
import XCTest
import CohortTensor
@testable import CohortTune

/// The character language model as a trainable: exact pause and resume across rungs,
/// bits per character that fall with training, and config checks.
final class CharacterModelTrainableTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("char-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A small play of two roles, repetitive enough to learn in a few steps.
        var text = "# Rhymes\n\n"
        for i in 0 ..< 40 {
            text += "**ANNE**  \nthe cat sat on the mat, \(i % 2 == 0 ? "and" : "but") the dog did not.  \n\n"
            text += "**BOB**  \nNo, the dog sat on the log.\n\n"
        }
        try Data(text.utf8).write(to: dir.appendingPathComponent("rhymes.md"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func factory(_ extra: String = "", space: String = #"{"hidden": 16, "embedding": 8, "batch_size": 4, "learning_rate": 0.01}"#,
                 mode: MetricMode = .min, sequenceLength: Int = 16) throws -> CharacterModelTrainableFactory {
        let section = try JSONValue.parse(#"{"type": "char_lstm", "plays_dir": "\#(dir.path)", "sequence_length": \#(sequenceLength), "steps_per_unit": 5\#(extra)}"#)
        let context = TrainableContext(space: try SearchSpace(json: try JSONValue.parse(space)), seed: 3, mode: mode, maxResource: 9)
        let made = try TrainableCatalog.standard.makeFactory(section, context: context)
        return try XCTUnwrap(made as? CharacterModelTrainableFactory)
    }

    func trainable(_ f: CharacterModelTrainableFactory, _ config: KeyValuePairs<String, ParameterValue>) throws -> CharacterModelTrainable {
        try XCTUnwrap(try f.make(trial: 2, config: TrialConfig(config)) as? CharacterModelTrainable)
    }

    func state(_ t: CharacterModelTrainable) -> [UInt32] {
        var bits = t.model.parameters.flat.map(\.bitPattern)
        for (_, buffer) in t.optimizer.state { bits += buffer.flat.map(\.bitPattern) }
        return bits + [UInt32(t.step)]
    }

    func testPauseAndResumeAreExactAcrossRungs() throws {
        for cell in ["lstm", "gru"] {
            let f = try factory()
            let config: KeyValuePairs<String, ParameterValue> = ["hidden": .int(16), "embedding": .int(8), "batch_size": .int(4),
                                                                 "learning_rate": .double(0.01), "cell": .string(cell)]
            let url = dir.appendingPathComponent("\(cell).ckpt")
            let first = try trainable(f, config)
            try first.train(to: 1)
            let before = try first.evaluate()
            try first.save(to: url)
            let resumed = try trainable(f, config)
            try resumed.restore(from: url, resource: 1)
            XCTAssertEqual(state(resumed), state(first))
            try resumed.train(to: 3)
            let whole = try trainable(f, config)
            try whole.train(to: 3)
            XCTAssertEqual(state(resumed), state(whole), "\(cell): 1 then 3 equals 3 in one go, bit for bit")
            XCTAssertEqual(whole.step, 15)
            XCTAssertEqual(try resumed.evaluate(), try whole.evaluate())
            XCTAssertLessThan(try whole.evaluate(), before, "\(cell): validation bits per character fall")
            XCTAssertThrowsError(try trainable(f, config).restore(from: url, resource: 2)) {
                XCTAssertTrue("\($0)".contains("it holds 5 optimizer steps, but resource 2 is 10 steps"), "\($0)")
            }
        }
    }

    func testBitsPerCharacterStartNearTheUniformAndFall() throws {
        let f = try factory()
        let t = try trainable(f, ["hidden": .int(16), "embedding": .int(8), "batch_size": .int(4), "learning_rate": .double(0.01)])
        let untrained = try t.evaluate()
        XCTAssertEqual(untrained, log2(80), accuracy: 0.5, "an untrained model is close to uniform over 80 characters")
        try t.train(to: 9)
        let trained = try t.evaluate()
        XCTAssertLessThan(trained, 3.5, "45 steps on a repetitive text")
        XCTAssertNotNil(try t.testMetric())
    }

    func testConfigProblems() throws {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try self.factory(space: #"{"width": 3}"#) }.contains("space.width: is not a hyperparameter of the char_lstm trainable"))
        XCTAssertTrue(message { try self.factory(space: #"{"layers": {"type": "int", "low": 0, "high": 2}}"#) }
            .contains("space.layers: must be a whole number from 1 to 8; the range reaches 0"))
        XCTAssertTrue(message { try self.factory(", \"plays\": [\"hamlet\"]") }.contains("trainable.plays: no play 'hamlet' in"))
        let zero = message { try self.factory(sequenceLength: 0) }
        XCTAssertTrue(zero.contains("trainable.sequence_length"), zero)
        XCTAssertTrue(message { try self.factory(mode: .max) }.contains("set mode: min"))
        let f = try factory()
        let streams = message { try f.make(trial: 0, config: TrialConfig(["batch_size": .int(4096)])) }
        XCTAssertTrue(streams.contains("space.batch_size: 4096 streams of"), streams)
    }
}
