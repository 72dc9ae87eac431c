import XCTest
@testable import CohortTrain

final class TrainingConfigTests: XCTestCase {
    func testParsesYAMLAndJSON() throws {
        let c = try TrainingConfig.parse("""
        dataset: fashion-mnist
        model: { kind: cnn, filters: [8, 16], dense: 32, dropout: 0.25 }
        optimizer: { kind: adamw, learningRate: 0.001, weightDecay: 0.01, schedule: cosine, warmupEpochs: 0.5 }
        epochs: 3
        batchSize: 64
        seed: 42
        """)
        XCTAssertEqual(c.dataset, "fashion-mnist")
        XCTAssertEqual(c.model.kind, .cnn)
        XCTAssertEqual(c.model.filters, [8, 16])
        XCTAssertEqual(c.model.dropout, 0.25)
        XCTAssertEqual(c.optimizer.kind, .adamw)
        XCTAssertEqual(c.optimizer.schedule, .cosine)
        XCTAssertEqual(c.seed, 42)
        let j = try TrainingConfig.parse(#"{"dataset": "digits", "model": {"kind": "mlp", "hidden": [32, 16]}, "epochs": 2}"#)
        XCTAssertEqual(j.model.hidden, [32, 16])
        XCTAssertEqual(j.batchSize, 64, "defaults fill what the file leaves out")
    }

    func testErrorsNameTheKey() {
        func message(_ text: String) -> String {
            do { _ = try TrainingConfig.parse(text); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("epoch: 3").contains("unknown key 'epoch'"))
        XCTAssertTrue(message("model: { kind: mlp, hiden: [3] }").contains("unknown key 'model.hiden'"))
        XCTAssertTrue(message("epochs: three").contains("epochs must be a whole number"))
        XCTAssertTrue(message("model: { kind: transformer }").contains("model.kind must be one of mlp, cnn, resnet"))
        XCTAssertTrue(message("optimizer: { learningRate: -1 }").contains("learningRate must be positive"))
        XCTAssertTrue(message("optimizer: { kind: sgd, momentum: 1.5 }").contains("momentum must be in [0, 1)"))
        XCTAssertTrue(message("- 1\n- 2").contains("top level must be a mapping"))
        XCTAssertTrue(message("batchSize: 0").contains("batchSize must be positive"))
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try TrainingConfig.load(path: "/no/such/config.yaml")) {
            XCTAssertEqual("\($0)", "config /no/such/config.yaml: cannot read the file")
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
