import XCTest
import CohortTensor
@testable import CohortXD

/// The XD-operation at its Fourier initialisation is the convolution it replaces; its
/// backward rules (through gather, butterflies and channel mixing) agree with finite
/// differences; conversion keeps weights; the FNO layer keeps exactly its modes.
final class XDOperationTests: XCTestCase {
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomStream(seed: seed, stream: 5)
        return (0..<count).map { _ in rng.uniform() * 2 - 1 }
    }

    private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        var num: Double = 0, den: Double = 0
        for (x, y) in zip(a, b) { num += Double(x - y) * Double(x - y); den += Double(y) * Double(y) }
        return Float((num / max(den, 1e-30)).squareRoot())
    }

    func testOneDimensionalXDEqualsConvolutionAtInitialisation() throws {
        for (n, k, p, s, mode) in [(16, 3, 1, 1, GatherIndex.PaddingMode.zero), (20, 5, 0, 1, .zero), (13, 4, 2, 2, .zero),
                                   (16, 17, 8, 1, .zero), (16, 5, 2, 1, .circular), (32, 17, 8, 1, .circular), (16, 3, 0, 2, .circular),
                                   (8, 3, 3, 1, .circular)] {
            let conv = Conv1d(3, 4, kernel: k, stride: s, padding: p, paddingMode: mode)
            let xd = try XDOperation(weight: conv.weight, bias: conv.bias, inputSize: [n], stride: s, padding: p, mode: mode)
            let model = Model(xd, seed: 3)   // packs the shared weights and the K-matrices
            for i in 0..<4 { model.parameters["bias"]![i] = Float(i) * 0.1 - 0.2 }
            let tape = Tape(mode: .evaluation)
            let x = tape.tensor(values(2 * 3 * n, seed: UInt64(n * k)), shape: [2, 3, n])
            let expected = conv(x, tape), got = xd(x, tape)
            XCTAssertEqual(got.shape, expected.shape, "n=\(n) k=\(k) p=\(p) s=\(s) \(mode)")
            XCTAssertLessThan(relativeError(got.toArray(), expected.toArray()), 1e-5, "n=\(n) k=\(k) p=\(p) s=\(s) \(mode)")
        }
    }

    func testTwoDimensionalXDEqualsConvolutionAtInitialisation() throws {
        for (h, w, k, p, s, depth) in [(8, 8, 3, 1, 1, 1), (12, 10, 5, 2, 1, 2), (9, 9, 3, 0, 2, 1), (28, 28, 5, 0, 1, 3), (7, 6, 3, 1, 3, 1)] {
            let conv = Conv2d(2, 3, kernel: k, stride: s, padding: p)
            let xd = try XDOperation(weight: conv.weight, bias: conv.bias, inputSize: [h, w], stride: s, padding: p, mode: .zero, depth: depth)
            let model = Model(xd, seed: 4)
            for i in 0..<3 { model.parameters["bias"]![i] = 0.3 - Float(i) * 0.2 }
            let tape = Tape(mode: .evaluation)
            let x = tape.tensor(values(2 * 2 * h * w, seed: UInt64(h * w + k)), shape: [2, 2, h, w])
            let expected = conv(x, tape), got = xd(x, tape)
            XCTAssertEqual(got.shape, expected.shape)
            XCTAssertLessThan(relativeError(got.toArray(), expected.toArray()), 1e-5, "\(h)x\(w) k=\(k) p=\(p) s=\(s) depth=\(depth)")
        }
    }

    func testXDGradientsInInputWeightsAndTwiddles() throws {
        // A 1-D XD on 6 points (N = 8), twiddles moved off the DFT so every path matters.
        let conv = Conv1d(2, 2, kernel: 3, padding: 1)
        let xd = try XDOperation(weight: conv.weight, bias: conv.bias, inputSize: [6], stride: 1, padding: 1, mode: .zero)
        let model = Model(xd, seed: 9)
        var rng = RandomStream(seed: 2, stream: 1)
        for i in 0..<model.parameters.count { model.parameters.flat[i] += 0.05 * (rng.uniform() - 0.5) }
        let x = values(12, seed: 21)
        let weightsOfLoss = values(12, seed: 22)
        func loss(_ input: [Float]) -> Double {
            let tape = Tape(mode: .evaluation)
            let y = model(tape.tensor(input, shape: [1, 2, 6]), tape)
            return zip(y.toArray(), weightsOfLoss).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        model.zeroGradients()
        let tape = Tape(mode: .training)
        let xt = tape.variable(x, shape: [1, 2, 6])
        let y = model(xt, tape)
        tape.backward(tape.sum(tape.mul(y, tape.tensor(weightsOfLoss, shape: y.shape))))
        let analyticX = xt.gradient!, analyticP = model.gradients.toArray()
        let eps: Float = 1e-2
        for i in 0..<x.count {
            var plus = x, minus = x
            plus[i] += eps; minus[i] -= eps
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * eps))
            XCTAssertEqual(analyticX[i], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "dx[\(i)]")
        }
        // Every weight and a spread of twiddles of each of K, L, M.
        let picks = Array(0..<8) + Array(Swift.stride(from: 8, to: model.parameters.count, by: 37))
        for i in picks {
            let original = model.parameters.flat[i]
            model.parameters.flat[i] = original + eps
            let plus = loss(x)
            model.parameters.flat[i] = original - eps
            let minus = loss(x)
            model.parameters.flat[i] = original
            let numeric = Float((plus - minus) / Double(2 * eps))
            XCTAssertEqual(analyticP[i], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "dparameter[\(i)] \(model.parameters.entries.last { $0.offset <= i }!.name)")
        }
    }

    func testConversionKeepsWeightsAndOutputsAndGroupsTwiddles() throws {
        let seed: UInt64 = 11
        let backbone = Model(try XDBackbones.leNet(channels: 1, height: 20, width: 20, classes: 3), seed: seed)
        let (module, replaced) = try XDConversion().convert(try XDBackbones.leNet(channels: 1, height: 20, width: 20, classes: 3), sampleShape: [1, 20, 20])
        XCTAssertEqual(replaced, 2)
        let converted = Model(module, seed: seed)
        let weights = converted.groupRanges[""]!
        XCTAssertEqual(Array(converted.parameters.flat[weights]), backbone.parameters.toArray(), "same seed, same weights under the same names")
        XCTAssertEqual(converted.groupRanges[KMatrix.parameterGroup]!.upperBound, converted.parameterCount)
        let tape = Tape(mode: .evaluation)
        let x = tape.tensor(values(2 * 400, seed: 8), shape: [2, 1, 20, 20])
        XCTAssertLessThan(relativeError(converted(x, tape).toArray(), backbone(x, tape).toArray()), 1e-5)
        // A trained model's values carry over.
        backbone.parameters.flat[0] = 0.75
        let (carried, _) = try XDConversion().convert(model: backbone, sampleShape: [1, 20, 20], seed: 99)
        XCTAssertEqual(carried.parameters.flat[0], 0.75)
    }

    func testBurgersBackboneConvertsItsWideConvolutionsOnly() throws {
        let (_, replaced) = try XDConversion().convert(try XDBackbones.burgersConvolutional(width: 4, kernel: 5, layers: 2), sampleShape: [2, 16])
        XCTAssertEqual(replaced, 2)
        let (_, all) = try XDConversion(includePointwise: true).convert(try XDBackbones.burgersConvolutional(width: 4, kernel: 5, layers: 2), sampleShape: [2, 16])
        XCTAssertEqual(all, 2 + 2 + 3)
    }

    func testSpectralConvolutionKeepsOnlyItsModes() throws {
        // One channel, weight 1 on modes 0..<2: the output is the input's two lowest modes.
        let layer = try SpectralConvolution(1, 1, modes: 2, length: 8)
        let model = Model(layer, seed: 1)
        model.parameters["weight_real"]!.update(repeating: 1)
        model.parameters["weight_imag"]!.update(repeating: 0)
        let tape = Tape(mode: .evaluation)
        let xs = (0..<8).map { j -> Float in
            let t = 2 * Float.pi * Float(j) / 8
            return 0.5 + cos(t) + 0.7 * sin(t) + 2 * cos(3 * t)
        }
        let y = layer(tape.tensor(xs, shape: [1, 1, 8]), tape).toArray()
        for j in 0..<8 {
            let t = 2 * Float.pi * Float(j) / 8
            XCTAssertEqual(y[j], 0.5 + cos(t) + 0.7 * sin(t), accuracy: 1e-5)
        }
    }

    func testBadSizesAreRefusedWithAMessage() {
        let conv = Conv1d(1, 1, kernel: 9)
        XCTAssertThrowsError(try XDOperation(weight: conv.weight, bias: nil, inputSize: [5], stride: 1, padding: 1, mode: .zero)) {
            XCTAssertEqual("\($0)", "kernel size 9 is larger than the input (5) plus padding (2 x 1)")
        }
        let periodic = Conv1d(1, 1, kernel: 3, padding: 1, paddingMode: .circular)
        XCTAssertThrowsError(try XDOperation(weight: periodic.weight, bias: nil, inputSize: [12], stride: 1, padding: 1, mode: .circular)) {
            XCTAssertEqual("\($0)", "an XD-operation with circular padding needs a power-of-two length, got 12")
        }
        XCTAssertThrowsError(try SpectralConvolution(2, 2, modes: 4, length: 100)) {
            XCTAssertEqual("\($0)", "a spectral convolution needs a power-of-two length, got 100")
        }
        XCTAssertThrowsError(try XDBackbones.leNet(channels: 1, height: 8, width: 8, classes: 10))
    }
}
