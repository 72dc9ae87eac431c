import CohortFiles
import XCTest
@testable import CohortTrain

final class TrainingConfigTests: XCTestCase {
    func testParsesYAMLAndJSON() throws {
        let c = try TrainingConfig.parse("""
        dataset: fashion-mnist
        model: { type: cnn, filters: [8, 16], dense: 32, dropout: 0.25 }
        optimizer: { type: adamw, learning_rate: 0.001, weight_decay: 0.01, schedule: cosine, warmup_epochs: 0.5 }
        epochs: 3
        batch_size: 64
        seed: 42
        """)
        XCTAssertEqual(c.dataset, "fashion-mnist")
        XCTAssertEqual(c.model.kind, .cnn)
        XCTAssertEqual(c.model.filters, [8, 16])
        XCTAssertEqual(c.model.dropout, 0.25)
        XCTAssertEqual(c.optimizer.kind, .adamw)
        XCTAssertEqual(c.optimizer.schedule, .cosine)
        XCTAssertEqual(c.seed, 42)
        let j = try TrainingConfig.parse(#"{"dataset": "digits", "model": {"type": "mlp", "hidden": [32, 16]}, "epochs": 2}"#)
        XCTAssertEqual(j.model.hidden, [32, 16])
        XCTAssertEqual(j.batchSize, 64, "defaults fill what the file leaves out")
    }

    /// The error `text` is refused with, all its lines.
    private func message(_ text: String) -> String {
        do { _ = try TrainingConfig.parse(text); return "no error" } catch { return "\(error)" }
    }

    func testErrorsNameTheKey() {
        XCTAssertEqual(message("epoch: 3"), "epoch: unknown key; did you mean epochs?")
        XCTAssertEqual(message("model: { type: mlp, hiden: [3] }"), "model.hiden: unknown key; did you mean hidden?")
        XCTAssertEqual(message("epochs: three"), "epochs: must be a whole number, got a string")
        XCTAssertEqual(message("model: { type: transformer }"), "model.type: unknown value 'transformer' (expected one of mlp, cnn, resnet)")
        XCTAssertEqual(message("optimizer: { learning_rate: -1 }"), "optimizer.learning_rate: must be greater than 0, got -1")
        XCTAssertEqual(message("optimizer: { type: sgd, momentum: 1.5 }"), "optimizer.momentum: must be less than 1, got 1.5")
        XCTAssertEqual(message("- 1\n- 2"), "config: must be a mapping, got a list")
        XCTAssertEqual(message("batch_size: 0"), "batch_size: must be at least 1, got 0")
        XCTAssertEqual(message("epochs: 99999999999999999999"), "epochs: must be a whole number, got 1e+20")
    }

    func testFormerCamelCaseKeysNameTheirSnakeCaseName() {
        XCTAssertEqual(message("optimizer: { learningRate: 0.1 }"), "optimizer.learningRate: unknown key; did you mean learning_rate?")
        XCTAssertEqual(message("model: { kind: mlp }"), "model.kind: unknown key; did you mean type?")
        XCTAssertEqual(message("dataDirectory: /data"), "dataDirectory: unknown key; did you mean data_dir?")
        XCTAssertEqual(message("batchSize: 8\nepochs: 0"), "epochs: must be at least 1, got 0\nbatchSize: unknown key; did you mean batch_size?")
    }

    func testValuesFlagsSetAreBoundedBeforeAnythingIsSizedFromThem() {
        var c = TrainingConfig()
        c.threads = 4_294_967_296
        c.batchSize = .max
        c.epochs = .max
        c.model.hidden = [4_611_686_018_427_387_904]
        c.optimizer.warmupEpochs = .infinity
        XCTAssertThrowsError(try c.validate()) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.map(\.description), [
                "epochs: must be between 1 and 1000000, got 9223372036854775807",
                "batch_size: must be between 1 and 16777216, got 9223372036854775807",
                "threads: must be between 1 and 1024, got 4294967296",
                "model.hidden: sizes must be between 1 and 65536, got [4611686018427387904]",
                "optimizer.warmup_epochs: must be between 0 and 1000000, got inf",
            ])
        }
    }

    func testTheDocumentReadsBackToTheSameConfig() throws {
        var c = TrainingConfig()
        c.dataDirectory = "/data"
        c.model.kind = .resnet
        c.optimizer.learningRate = 0.125
        c.optimizer.schedule = .step
        XCTAssertEqual(try TrainingConfig.read(c.document), c)
        XCTAssertEqual(c.document.description, try TrainingConfig.read(c.document).document.description)
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try TrainingConfig.load(path: "/no/such/config.yaml")) {
            XCTAssertEqual("\($0)", "/no/such/config.yaml: cannot be read (no such file, or no permission)")
        }
    }

    func testScheduleInSteps() {
        var o = OptimizerSpec()
        o.learningRate = 1
        o.schedule = .step
        o.stepEpochs = 2
        o.gamma = 0.1
        o.warmupEpochs = 1
        let s = o.learningRateSchedule(stepsPerEpoch: 10, epochs: 5)
        // 10 warmup steps ramp to 1; then a decay by 0.1 every 20 steps.
        XCTAssertEqual(s.rate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 29), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 30), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 50), 0.01, accuracy: 1e-7)
    }

    func testModelShapes() throws {
        var m = ModelSpec()
        m.kind = .cnn
        XCTAssertEqual(try m.build(sampleShape: [64], classes: 10).inputShape, [1, 8, 8])
        XCTAssertEqual(try m.build(sampleShape: [1, 28, 28], classes: 10).inputShape, [1, 28, 28])
        XCTAssertThrowsError(try m.build(sampleShape: [60], classes: 10)) { XCTAssertTrue("\($0)".contains("not a square image")) }
        m.kind = .mlp
        XCTAssertEqual(try m.build(sampleShape: [1, 8, 8], classes: 10).inputShape, [64])
    }
}
