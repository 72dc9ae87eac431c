import XCTest
@testable import CohortTensor

/// Every op's backward rule against central finite differences, on several shapes,
/// including broadcasting and non-square cases.
final class OpGradientTests: XCTestCase {
    let checker = GradientChecker()

    // MARK: Matrix products

    func testMatmulAllTransposeCombinations() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a: Shape = ta ? [4, 3] : [3, 4]   // op(a) is 3x4
            let b: Shape = tb ? [5, 4] : [4, 5]   // op(b) is 4x5
            checker.check("matmul ta=\(ta) tb=\(tb)", [(testValues(12, seed: 1), a), (testValues(20, seed: 2), b)]) { t, x in
                t.matmul(x[0], x[1], transposeA: ta, transposeB: tb)
            }
        }
    }

    func testLinearWithAndWithoutBias() {
        checker.check("linear", [(testValues(6, seed: 3), [2, 3]), (testValues(12, seed: 4), [4, 3]), (testValues(4, seed: 5), [4])]) { t, x in
            t.linear(x[0], weight: x[1], bias: x[2])
        }
        checker.check("linear rank-3 no bias", [(testValues(12, seed: 6), [2, 2, 3]), (testValues(6, seed: 7), [2, 3])]) { t, x in
            t.linear(x[0], weight: x[1], bias: nil)
        }
    }

    // MARK: Broadcasting arithmetic

    func testBroadcastingBinaryOps() {
        let cases: [(Shape, Shape)] = [([2, 3], [2, 3]), ([2, 3], [3]), ([3, 1], [1, 4]), ([2, 1, 4], [3, 1]),
                                       ([2, 3, 2, 2], [3, 1, 1]), ([4], []), ([], [2, 2])]
        for (sa, sb) in cases {
            let a = testValues(sa.count, seed: 11), b = testValues(sb.count, seed: 12).map { $0 + ($0 < 0 ? -1.5 : 1.5) }
            checker.check("add \(sa) \(sb)", [(a, sa), (b, sb)]) { t, x in t.add(x[0], x[1]) }
            checker.check("sub \(sa) \(sb)", [(a, sa), (b, sb)]) { t, x in t.sub(x[0], x[1]) }
            checker.check("mul \(sa) \(sb)", [(a, sa), (b, sb)]) { t, x in t.mul(x[0], x[1]) }
            checker.check("div \(sa) \(sb)", [(a, sa), (b, sb)]) { t, x in t.div(x[0], x[1]) }
        }
    }

    func testScalarAndElementwiseMaps() {
        let x = testValues(6, seed: 13), pos = x.map { abs($0) + 0.5 }
        checker.check("affine", [(x, [2, 3])]) { t, x in t.sub(2, t.mul(t.add(x[0], 0.5), 3)) }
        checker.check("div scalar", [(x, [2, 3])]) { t, x in t.div(x[0], 4) }
        checker.check("scalar over tensor", [(pos, [6])]) { t, x in t.div(2, x[0]) }
        checker.check("pow", [(pos, [3, 2])]) { t, x in t.pow(x[0], 2.5) }
        checker.check("exp", [(x, [6])]) { t, x in t.exp(x[0]) }
        checker.check("log", [(pos, [6])]) { t, x in t.log(x[0]) }
        checker.check("sqrt", [(pos, [6])]) { t, x in t.sqrt(x[0]) }
        checker.check("neg", [(x, [6])]) { t, x in t.neg(x[0]) }
    }

    // MARK: Activations

    func testActivations() {
        let x = testValues(12, seed: 14, gap: 0.05).map { $0 * 2 }
        checker.check("relu", [(x, [3, 4])]) { t, x in t.relu(x[0]) }
        checker.check("tanh", [(x, [3, 4])]) { t, x in t.tanh(x[0]) }
        checker.check("sigmoid", [(x, [3, 4])]) { t, x in t.sigmoid(x[0]) }
        checker.check("gelu", [(x, [2, 2, 3])]) { t, x in t.gelu(x[0]) }
    }

    func testSoftmaxFamily() {
        let x = testValues(15, seed: 15).map { $0 * 3 }
        checker.check("softmax", [(x, [3, 5])]) { t, x in t.softmax(x[0]) }
        checker.check("logSoftmax", [(x, [5, 3])]) { t, x in t.logSoftmax(x[0]) }
        checker.check("softmax rank-3", [(x, [1, 3, 5])]) { t, x in t.softmax(x[0]) }
    }

    // MARK: Losses

    func testLosses() {
        let logits = testValues(12, seed: 16).map { $0 * 2 }
        checker.check("crossEntropy", [(logits, [4, 3])]) { t, x in t.crossEntropy(x[0], labels: [2, 0, 1, 2]) }
        checker.check("mse", [(testValues(6, seed: 17), [2, 3]), (testValues(6, seed: 18), [2, 3])]) { t, x in t.mse(x[0], x[1]) }
    }

    // MARK: Reductions and shapes

    func testReductions() {
        let x = testValues(24, seed: 19)
        checker.check("sum all", [(x, [2, 3, 4])]) { t, x in t.sum(x[0]) }
        checker.check("mean all", [(x, [2, 3, 4])]) { t, x in t.mean(x[0]) }
        checker.check("sum axis 1", [(x, [2, 3, 4])]) { t, x in t.sum(x[0], axes: [1]) }
        checker.check("mean axes 0,2 keep", [(x, [2, 3, 4])]) { t, x in t.mean(x[0], axes: [0, 2], keepDims: true) }
        checker.check("sum last", [(x, [4, 6])]) { t, x in t.sum(x[0], axes: [-1]) }
    }

    func testShapeOps() {
        let x = testValues(24, seed: 20)
        checker.check("reshape", [(x, [2, 3, 4])]) { t, x in t.mul(t.reshape(x[0], [6, -1]), t.reshape(x[0], [6, 4])) }
        checker.check("flatten", [(x, [2, 3, 2, 2])]) { t, x in t.tanh(t.flatten(x[0])) }
        checker.check("transpose", [(x, [4, 6])]) { t, x in t.transpose(x[0]) }
        checker.check("permute", [(x, [2, 3, 2, 2])]) { t, x in t.permute(x[0], [2, 0, 3, 1]) }
        checker.check("concat axis 1", [(testValues(6, seed: 21), [2, 3]), (testValues(4, seed: 22), [2, 2])]) { t, x in
            t.concat([x[0], x[1]], axis: 1)
        }
        checker.check("concat axis 0", [(testValues(6, seed: 23), [2, 3]), (testValues(3, seed: 24), [1, 3])]) { t, x in
            t.concat([x[0], x[1], x[0]], axis: 0)
        }
        checker.check("slice axis 0 (view)", [(x, [4, 6])]) { t, x in t.tanh(t.slice(x[0], axis: 0, 1..<3)) }
        checker.check("slice axis 1", [(x, [2, 3, 4])]) { t, x in t.slice(x[0], axis: 1, 1..<3) }
    }

    // MARK: Convolution and pooling

    func testConv2d() {
        checker.check("conv2d 3x3 pad 1", [(testValues(2 * 2 * 5 * 4, seed: 25), [2, 2, 5, 4]),
                                          (testValues(3 * 2 * 9, seed: 26), [3, 2, 3, 3]), (testValues(3, seed: 27), [3])]) { t, x in
            t.conv2d(x[0], weight: x[1], bias: x[2], stride: 1, padding: 1)
        }
        checker.check("conv2d 2x2 stride 2 no bias", [(testValues(1 * 3 * 6 * 5, seed: 28), [1, 3, 6, 5]),
                                                     (testValues(2 * 3 * 4, seed: 29), [2, 3, 2, 2])]) { t, x in
            t.conv2d(x[0], weight: x[1], bias: nil, stride: 2, padding: 0)
        }
        checker.check("conv2d 3x3 stride 2 pad 1", [(testValues(2 * 1 * 5 * 5, seed: 30), [2, 1, 5, 5]),
                                                   (testValues(2 * 9, seed: 31), [2, 1, 3, 3])]) { t, x in
            t.conv2d(x[0], weight: x[1], bias: nil, stride: 2, padding: 1)
        }
    }

    func testPooling() {
        let x = distinctValues(2 * 2 * 4 * 6)
        checker.check("maxPool 2", [(x, [2, 2, 4, 6])]) { t, x in t.maxPool2d(x[0], kernel: 2) }
        checker.check("maxPool 2 wide rows (vector path)", [(distinctValues(2 * 4 * 20, seed: 3), [1, 2, 4, 20])]) { t, x in
            t.maxPool2d(x[0], kernel: 2)
        }
        checker.check("maxPool 3 stride 2 pad 1", [(x, [2, 2, 4, 6])]) { t, x in t.maxPool2d(x[0], kernel: 3, stride: 2, padding: 1) }
        checker.check("avgPool 2", [(x, [2, 2, 4, 6])]) { t, x in t.avgPool2d(x[0], kernel: 2) }
        checker.check("avgPool 3 stride 1 pad 1", [(x, [2, 2, 4, 6])]) { t, x in t.avgPool2d(x[0], kernel: 3, stride: 1, padding: 1) }
        checker.check("globalAvgPool", [(x, [2, 2, 4, 6])]) { t, x in t.globalAvgPool(x[0]) }
    }

    // MARK: Normalization, dropout, embedding

    func testBatchNormTrainingAndEvaluation() {
        let x4 = testValues(3 * 2 * 2 * 3, seed: 32), x2 = testValues(4 * 3, seed: 33)
        let gamma = [1.2, 0.7, -0.5] as [Float], beta = [0.1, -0.2, 0.3] as [Float]
        checker.check("batchNorm 4-D training", [(x4, [3, 2, 2, 3]), (Array(gamma.prefix(2)), [2]), (Array(beta.prefix(2)), [2])]) { t, x in
            t.batchNorm(x[0], gamma: x[1], beta: x[2], runningMean: Tensor(zeros: [2]), runningVar: Tensor([1, 1], shape: [2]))
        }
        checker.check("batchNorm 2-D training", [(x2, [4, 3]), (gamma, [3]), (beta, [3])]) { t, x in
            t.batchNorm(x[0], gamma: x[1], beta: x[2], runningMean: Tensor(zeros: [3]), runningVar: Tensor([1, 1, 1], shape: [3]))
        }
        // Evaluation mode: normalization by fixed running statistics.
        let tape = Tape(mode: .evaluation)
        let rm = Tensor([0.2, -0.1, 0.0], shape: [3]), rv = Tensor([0.5, 2, 1], shape: [3])
        let y = tape.batchNorm(tape.tensor(x2, shape: [4, 3]), gamma: tape.tensor(gamma, shape: [3]), beta: tape.tensor(beta, shape: [3]),
                               runningMean: rm, runningVar: rv)
        for r in 0..<4 { for c in 0..<3 {
            let expected = (x2[r * 3 + c] - rm.pointer[c]) / (rv.pointer[c] + 1e-5).squareRoot() * gamma[c] + beta[c]
            XCTAssertEqual(y[r, c], expected, accuracy: 1e-5)
        } }
        XCTAssertEqual(tape.recordedCount, 0, "an evaluation tape records nothing")
    }

    func testBatchNormInferenceGradient() {
        var eval = GradientChecker()
        eval.mode = .evaluation
        let rm = Tensor([0.3, -0.2], shape: [2]), rv = Tensor([2, 0.5], shape: [2])
        eval.check("batchNorm inference", [(testValues(2 * 2 * 3, seed: 40), [2, 2, 3, 1]), ([1.5, -0.5], [2]), ([0.2, 0.1], [2])]) { t, x in
            t.batchNorm(x[0], gamma: x[1], beta: x[2], runningMean: rm, runningVar: rv)
        }
        XCTAssertEqual(rm.toArray(), [0.3, -0.2], "evaluation leaves running statistics alone")
    }

    func testDropoutUsesOneMaskForwardAndBackward() {
        let x = testValues(20, seed: 34)
        checker.check("dropout", [(x, [4, 5])]) { t, x in
            var rng = RandomStream(seed: 5, stream: 1)   // same mask on every evaluation
            return t.dropout(x[0], probability: 0.4, rng: &rng)
        }
        let tape = Tape()
        var rng = RandomStream(seed: 9)
        let y = tape.dropout(tape.tensor([Float](repeating: 1, count: 1000), shape: [1000]), probability: 0.25, rng: &rng)
        let kept = y.toArray().filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 }, "survivors are scaled by 1/(1-p)")
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        let eval = Tape(mode: .evaluation)
        let x2 = eval.tensor([1, 2, 3], shape: [3])
        XCTAssertTrue(eval.dropout(x2, probability: 0.5, rng: &rng) === x2, "dropout is the identity in evaluation")
    }

    func testEmbeddingWithRepeatedIndices() {
        checker.check("embedding", [(testValues(12, seed: 35), [4, 3])]) { t, x in
            t.embedding([3, 1, 3, 0, 1], indexShape: [5], table: x[0])
        }
        checker.check("embedding 2-D indices", [(testValues(8, seed: 36), [4, 2])]) { t, x in
            t.embedding([0, 2, 2, 3], indexShape: [2, 2], table: x[0])
        }
    }

    func testCompositeNetworkGradient() {
        // A small graph mixing many ops, with fan-out of x.
        checker.check("composite", [(testValues(2 * 1 * 4 * 4, seed: 37), [2, 1, 4, 4]), (testValues(2 * 9, seed: 38), [2, 1, 3, 3]),
                                    (testValues(3 * 8, seed: 39), [3, 8])]) { t, x in
            let h = t.tanh(t.conv2d(x[0], weight: x[1], bias: nil, padding: 1))
            let p = t.flatten(t.avgPool2d(h, kernel: 2))              // [2, 8]
            let z = t.linear(p, weight: x[2], bias: nil)             // [2, 3]
            return t.add(t.logSoftmax(z), t.mean(x[0]))
        }
    }

    func testRulesThatOverwriteAlsoAccumulateOnFanOut() {
        // Each op below runs first in the forward pass, so its backward runs last and must
        // add to a gradient the later use has already written (and write when alone).
        let x = testValues(2 * 2 * 4 * 4, seed: 41, gap: 0.05)
        checker.check("relu fan-out", [(x, [2, 2, 4, 4])]) { t, x in t.add(t.relu(x[0]), t.mul(x[0], x[0])) }
        checker.check("maxPool fan-out", [(distinctValues(32), [2, 1, 4, 4])]) { t, x in
            t.add(t.sum(t.maxPool2d(x[0], kernel: 2)), t.sum(t.mul(x[0], x[0])))
        }
        checker.check("batchNorm fan-out", [(x, [2, 2, 4, 4]), ([1.5, -0.5], [2]), ([0.1, 0.2], [2])]) { t, x in
            let y = t.batchNorm(x[0], gamma: x[1], beta: x[2], runningMean: Tensor(zeros: [2]), runningVar: Tensor([1, 1], shape: [2]))
            return t.add(t.sum(t.mul(y, y)), t.sum(t.tanh(x[0])))
        }
        checker.check("linear fan-out", [(testValues(6, seed: 42), [2, 3]), (testValues(6, seed: 43), [2, 3])]) { t, x in
            t.add(t.sum(t.linear(x[0], weight: x[1], bias: nil)), t.sum(t.mul(x[0], x[0])))
        }
    }
}
