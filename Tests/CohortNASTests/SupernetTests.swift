import CohortTensor
import XCTest
@testable import CohortNAS

/// The supernet: shared weights per edge and operation, single-path and mixture
/// forward passes, gradients to the architecture weights, agreement with a trained
/// architecture's network.
final class SupernetTests: XCTestCase {
    let spec = NetworkSpec(channels: 3, cellsPerStage: [1, 1])
    let cell = try! CellArchitecture(parsing: "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")

    private func batch(_ n: Int = 6, seed: UInt64 = 9) -> (x: [Float], labels: [Int32]) {
        var rng = RandomStream(seed: seed)
        return ((0..<(n * 64)).map { _ in rng.uniform() }, (0..<n).map { Int32($0 % 10) })
    }

    private func supernet(seed: UInt64 = 1) throws -> (CellNetwork, Model) {
        let net = try CellNetwork(.supernet, spec: spec, inputShape: [1, 8, 8], classes: 10)
        return (net, Model(net, seed: seed))
    }

    private func logits(_ net: CellNetwork, _ tape: Tape, _ x: [Float], n: Int = 6) -> Tensor {
        net.forward(tape.tensor(x, shape: [n, 1, 8, 8]), tape)
    }

    func testOneWeightSetPerEdgeAndConvolution() throws {
        let (_, model) = try supernet()
        let names = model.parameters.entries.map(\.name)
        for s in 0..<2 {
            for e in 0..<6 {
                XCTAssertTrue(names.contains("stage\(s).cell0.e\(e).nor_conv_1x1.conv.weight"))
                XCTAssertTrue(names.contains("stage\(s).cell0.e\(e).nor_conv_3x3.conv.weight"))
            }
        }
        XCTAssertEqual(names.filter { $0.contains(".cell0.e") }.count, 24, "only convolution weights: candidate BNs learn no scale")
        XCTAssertEqual(model.parameters.entry(named: "stage1.cell0.e4.nor_conv_3x3.conv.weight")?.shape, [6, 6, 3, 3])
        XCTAssertEqual(model.state.count, 0, "a supernet keeps no running statistics")
    }

    func testSinglePathTrainsOnlyTheSampledOperations() throws {
        let (net, model) = try supernet()
        let (x, labels) = batch()
        let tape = Tape()
        net.path = .single(cell)
        tape.backward(tape.crossEntropy(logits(net, tape, x), labels: labels))
        for entry in model.gradients.entries where entry.name.contains(".cell0.e") {
            let touched = model.gradients[entry.name]!.contains { $0 != 0 }
            let used = entry.name.contains("e0.nor_conv_3x3") || entry.name.contains("e2.nor_conv_1x1")
            XCTAssertEqual(touched, used, entry.name)
        }
        XCTAssertTrue(model.gradients["stem.conv.weight"]!.contains { $0 != 0 })
    }

    func testMixtureWithOneHotWeightsIsTheSinglePath() throws {
        let (net, _) = try supernet()
        let (x, _) = batch()
        let tape = Tape()
        net.path = .single(cell)
        let single = logits(net, tape, x).toArray()
        var oneHot = [Float](repeating: 0, count: 30)
        for (e, op) in cell.operations.enumerated() { oneHot[e * 5 + op.index] = 1 }
        let mixtureTape = Tape()
        net.path = .mixture(MixtureWeights(mixtureTape.tensor(oneHot, shape: [6, 5]), tape: mixtureTape))
        let mixture = logits(net, mixtureTape, x).toArray()
        for (a, b) in zip(single, mixture) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testArchitectureGradientMatchesFiniteDifferences() throws {
        let (net, _) = try supernet(seed: 3)
        let (x, labels) = batch(8, seed: 4)
        var rng = RandomStream(seed: 5)
        let weights: [Float] = (0..<30).map { _ in 0.1 + 0.3 * rng.uniform() }
        func loss(_ w: [Float], gradient: Bool) -> (Float, [Float]?) {
            let tape = Tape()
            let v = gradient ? tape.variable(w, shape: [6, 5]) : tape.tensor(w, shape: [6, 5])
            net.path = .mixture(MixtureWeights(v, tape: tape))
            let l = tape.crossEntropy(logits(net, tape, x, n: 8), labels: labels)
            if gradient { tape.backward(l) }
            return (l.item, gradient ? v.gradient : nil)
        }
        let analytic = loss(weights, gradient: true).1!
        XCTAssertEqual(analytic.count, 30)
        for e in 0..<6 { XCTAssertEqual(analytic[e * 5], 0, "'none' gets no gradient") }
        let h: Float = 2e-3
        for i in [1, 2, 3, 8, 13, 19, 22, 28] {
            var up = weights, down = weights
            up[i] += h
            down[i] -= h
            let numeric = (loss(up, gradient: false).0 - loss(down, gradient: false).0) / (2 * h)
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 + 0.05 * abs(numeric), "weight \(i)")
        }
        XCTAssertTrue(analytic.contains { abs($0) > 1e-3 })
    }

    func testTrainedNetworkStartsWhereTheSupernetStarted() throws {
        // Same names, same initial values; a trained network's BNs start as the
        // identity and normalize with batch statistics on a training tape.
        let (supernet, _) = try supernet(seed: 7)
        let fixed = try CellNetwork(.architecture(cell), spec: spec, inputShape: [1, 8, 8], classes: 10)
        let fixedModel = Model(fixed, seed: 7)
        XCTAssertEqual(fixedModel.parameters.entries.filter { $0.name.contains(".cell0.e") && $0.name.hasSuffix("conv.weight") }.map(\.name),
                       ["stage0.cell0.e0.nor_conv_3x3.conv.weight", "stage0.cell0.e2.nor_conv_1x1.conv.weight",
                        "stage1.cell0.e0.nor_conv_3x3.conv.weight", "stage1.cell0.e2.nor_conv_1x1.conv.weight"])
        let (x, _) = batch()
        supernet.path = .single(cell)
        let a = logits(supernet, Tape(), x).toArray()
        let b = logits(fixed, Tape(), x).toArray()
        for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-6) }
    }

    func testDisconnectedCellPassesZeros() throws {
        let (net, _) = try supernet()
        let cut = try CellArchitecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|", requireConnected: false)
        net.path = .single(cut)
        let out = logits(net, Tape(), batch().x).toArray()
        XCTAssertTrue(out.allSatisfy(\.isFinite))
        XCTAssertThrowsError(try CellNetwork(.architecture(cut), spec: spec, inputShape: [1, 8, 8], classes: 10))
    }

    func testAveragePoolingLeavesPaddingOut() {
        let tape = Tape()
        let x = tape.tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        let y = AveragePool3x3().forward(x, tape).toArray()
        // Corner (0,0): mean of 1, 2, 4, 5; edge (0,1): mean of 1..6; centre: mean of 1..9.
        XCTAssertEqual(y[0], 3, accuracy: 1e-6)
        XCTAssertEqual(y[1], 3.5, accuracy: 1e-6)
        XCTAssertEqual(y[4], 5, accuracy: 1e-6)
        XCTAssertEqual(y[8], 7, accuracy: 1e-6)
    }

    func testNetworkShapeErrors() {
        XCTAssertThrowsError(try CellNetwork(.supernet, spec: NetworkSpec(channels: 4, cellsPerStage: [1, 1, 1, 1]), inputShape: [1, 28, 28], classes: 10)) {
            XCTAssertEqual("\($0)", "network: stage 3 halves the image, but stage 2 works on 7x7 (odd or too small); use fewer stages (network.cells has 4)")
        }
        XCTAssertThrowsError(try CellNetwork(.supernet, spec: NetworkSpec(channels: 4, cellsPerStage: [0, 0]), inputShape: [1, 8, 8], classes: 10))
        XCTAssertThrowsError(try CellNetwork(.supernet, spec: NetworkSpec(channels: 4, cellsPerStage: [1], stemStride: 3), inputShape: [1, 8, 8], classes: 10)) {
            XCTAssertEqual("\($0)", "network.stemStride must be 1 or 2, got 3")
        }
        XCTAssertNoThrow(try CellNetwork(.supernet, spec: NetworkSpec(channels: 4, cellsPerStage: [1, 1], stemStride: 2), inputShape: [1, 28, 28], classes: 10))
    }
}
