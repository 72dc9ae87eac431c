import XCTest
@testable import CohortTensor

/// The flat parameter layout, named views and seeded initialization.
final class ModelTests: XCTestCase {
    func testParametersLiveInOneFlatBufferWithNamedViews() throws {
        let net = try MLP.make(sizes: [4, 3, 2])
        let model = Model(net, seed: 7)
        XCTAssertEqual(model.parameters.entries.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(model.parameters.entries.map(\.offset), [0, 12, 15, 21])
        XCTAssertEqual(model.parameterCount, 23)
        XCTAssertEqual(model.gradients.entries, model.parameters.entries)
        // Every parameter tensor views the flat buffer.
        let w = (net.layers[0] as! Linear).weight.tensor
        XCTAssertTrue(w.storage === model.parameters.storage)
        model.parameters["0.bias"]![1] = 42
        XCTAssertEqual((net.layers[0] as! Linear).bias!.tensor.toArray()[1], 42)
        // A forward/backward writes gradients into the flat gradient buffer.
        let t = Tape()
        t.backward(t.sum(model(t.tensor([1, 0, 0, 0], shape: [1, 4]), t)))
        XCTAssertNotEqual(model.gradients["2.bias"]!.map { $0 }, [0, 0])
        XCTAssertEqual(model.gradients["2.bias"]!.map { $0 }, [1, 1])
    }

    func testBatchNormStateIsSeparateFromTrainableParameters() throws {
        let net = try SmallCNN.make(channels: 1, height: 8, width: 8, classes: 10)
        let model = Model(net, seed: 1)
        XCTAssertEqual(model.state.entries.map(\.name), ["1.running_mean", "1.running_var", "5.running_mean", "5.running_var"])
        XCTAssertEqual(model.state["1.running_var"]!.map { $0 }, [Float](repeating: 1, count: 16))
        XCTAssertFalse(model.parameters.entries.contains { $0.name.contains("running") })
        // 16*9 + 16 + 16 (bn) + 32*16*9 + 32 + 32 + (32*2*2)*128 + 128 + 128*10 + 10
        XCTAssertEqual(model.parameterCount, 144 + 32 + 4608 + 64 + 16384 + 128 + 1290)
        let t = Tape()
        let y = model(t.tensor(testValues(2 * 64, seed: 3), shape: [2, 1, 8, 8]), t)
        XCTAssertEqual(y.shape, [2, 10])
        XCTAssertNotEqual(model.state["1.running_mean"]!.map { $0 }, [Float](repeating: 0, count: 16), "training updates running stats")
    }

    func testSameSeedGivesBitIdenticalWeightsAndDifferentSeedsDiffer() throws {
        let a = Model(try MLP.make(sizes: [5, 7, 3]), seed: 11)
        let b = Model(try MLP.make(sizes: [5, 7, 3]), seed: 11)
        let c = Model(try MLP.make(sizes: [5, 7, 3]), seed: 12)
        XCTAssertEqual(a.parameters.toArray().map(\.bitPattern), b.parameters.toArray().map(\.bitPattern))
        XCTAssertNotEqual(a.parameters.toArray(), c.parameters.toArray())
        XCTAssertEqual(a.parameters["0.bias"]!.map { $0 }, [Float](repeating: 0, count: 7))
        // Kaiming-uniform bound sqrt(6/fanIn)
        let bound = Float((6.0 / 5).squareRoot())
        XCTAssertTrue(a.parameters["0.weight"]!.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(a.parameters["0.weight"]!.map { abs($0) }.max()!, bound * 0.5)
    }

    func testInitializationDependsOnNameNotPosition() throws {
        // Appending a layer leaves the earlier layers' initial values unchanged.
        let small = Model(Sequential(Linear(3, 4)), seed: 5)
        let large = Model(Sequential(Linear(3, 4), Activation(.relu), Linear(4, 2)), seed: 5)
        XCTAssertEqual(small.parameters["0.weight"]!.map { $0 }, large.parameters["0.weight"]!.map { $0 })
    }

    func testResidualBlockShapesAndNames() {
        let block = ResidualBlock(4, 8, stride: 2)
        let model = Model(block, seed: 1)
        XCTAssertTrue(model.parameters.entries.map(\.name).contains("shortcut.0.weight"))
        let t = Tape()
        let y = model(t.tensor(testValues(2 * 4 * 6 * 6, seed: 9), shape: [2, 4, 6, 6]), t)
        XCTAssertEqual(y.shape, [2, 8, 3, 3])
        XCTAssertTrue(y.toArray().allSatisfy { $0 >= 0 }, "ends in ReLU")
        let identity = Model(ResidualBlock(3, 3), seed: 1)
        XCTAssertFalse(identity.parameters.entries.contains { $0.name.hasPrefix("shortcut") })
    }

    func testArchitectureErrorsAreReadable() {
        XCTAssertThrowsError(try MLP.make(sizes: [4])) { XCTAssertTrue("\($0)".contains("at least an input and an output")) }
        XCTAssertThrowsError(try MLP.make(sizes: [4, 0, 2])) { XCTAssertTrue("\($0)".contains("positive")) }
        XCTAssertThrowsError(try SmallCNN.make(channels: 1, height: 3, width: 3, classes: 10)) { XCTAssertTrue("\($0)".contains("at least 4x4")) }
    }

    func testDropoutStreamsAreSeededPerModel() throws {
        let a = Model(try MLP.make(sizes: [2, 4, 2], dropout: 0.5), seed: 3)
        let b = Model(try MLP.make(sizes: [2, 4, 2], dropout: 0.5), seed: 3)
        XCTAssertEqual(a.randomSources.map(\.name), ["2.rng"])
        XCTAssertEqual(a.randomSources[0].source.stream, b.randomSources[0].source.stream)
    }
}
