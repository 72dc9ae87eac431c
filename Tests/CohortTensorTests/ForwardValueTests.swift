import XCTest
@testable import CohortTensor

/// Forward results against values worked out by hand or by a naive reference.
final class ForwardValueTests: XCTestCase {
    func testMatmulValues() {
        let t = Tape()
        let a = t.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = t.tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        XCTAssertEqual(t.matmul(a, b).toArray(), [58, 64, 139, 154])
        XCTAssertEqual(t.matmul(a, a, transposeB: true).toArray(), [14, 32, 32, 77])
        XCTAssertEqual(t.matmul(a, a, transposeA: true).shape, [3, 3])
        XCTAssertEqual(t.matmul(a, a, transposeA: true)[2, 2], 45)
    }

    func testBroadcastShapesAndValues() {
        let t = Tape()
        let a = t.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(t.add(a, t.tensor([10, 20, 30], shape: [3])).toArray(), [11, 22, 33, 14, 25, 36])
        XCTAssertEqual(t.mul(a, t.tensor([2, 3], shape: [2, 1])).toArray(), [2, 4, 6, 12, 15, 18])
        let outer = t.sub(t.tensor([1, 2], shape: [2, 1]), t.tensor([1, 2, 3], shape: [1, 3]))
        XCTAssertEqual(outer.shape, [2, 3])
        XCTAssertEqual(outer.toArray(), [0, -1, -2, 1, 0, -1])
        XCTAssertNil(Broadcast.resultShape([2, 3], [2]))
        XCTAssertEqual(Broadcast.resultShape([4, 1, 3], [5, 1]), [4, 5, 3])
    }

    func testReductionValues() {
        let t = Tape()
        let x = t.tensor((1...24).map(Float.init), shape: [2, 3, 4])
        XCTAssertEqual(t.sum(x).item, 300)
        XCTAssertEqual(t.sum(x, axes: [0, 2]).toArray(), [68, 100, 132])
        XCTAssertEqual(t.mean(x, axes: [2], keepDims: true).shape, [2, 3, 1])
        XCTAssertEqual(t.mean(x, axes: [2]).toArray(), [2.5, 6.5, 10.5, 14.5, 18.5, 22.5])
    }

    func testSoftmaxAndCrossEntropyValues() {
        let t = Tape()
        let logits = t.tensor([1, 2, 3, 1000, 1000, 1000], shape: [2, 3])
        let p = t.softmax(logits)
        XCTAssertEqual(p[1, 0], 1.0 / 3, accuracy: 1e-6, "stable for large logits")
        let e = [1, 2, 3].map { Foundation.exp(Double($0)) }
        XCTAssertEqual(Double(p[0, 2]), e[2] / e.reduce(0, +), accuracy: 1e-6)
        let ce = t.crossEntropy(logits, labels: [0, 1])
        let expected = ((Foundation.log(e.reduce(0, +)) - 1) + Foundation.log(3)) / 2
        XCTAssertEqual(Double(ce.item), expected, accuracy: 5e-5)
        XCTAssertEqual(t.logSoftmax(logits)[0, 0], Float(1 - Foundation.log(e.reduce(0, +))), accuracy: 1e-5)
    }

    func testConv2dMatchesDirectConvolution() {
        let n = 2, c = 3, h = 6, w = 5, o = 4, k = 3
        for (stride, pad) in [(1, 1), (2, 0), (2, 1), (1, 0)] {
            let xs = testValues(n * c * h * w, seed: 50), ws = testValues(o * c * k * k, seed: 51), bs = testValues(o, seed: 52)
            let t = Tape()
            let y = t.conv2d(t.tensor(xs, shape: [n, c, h, w]), weight: t.tensor(ws, shape: [o, c, k, k]),
                             bias: t.tensor(bs, shape: [o]), stride: stride, padding: pad)
            let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
            XCTAssertEqual(y.shape, [n, o, oh, ow])
            for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
                var s = Double(bs[oc])
                for ci in 0..<c { for ki in 0..<k { for kj in 0..<k {
                    let yy = i * stride - pad + ki, xx = j * stride - pad + kj
                    guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                    s += Double(xs[((b * c + ci) * h + yy) * w + xx]) * Double(ws[((oc * c + ci) * k + ki) * k + kj])
                } } }
                XCTAssertEqual(Double(y[b, oc, i, j]), s, accuracy: 1e-4, "stride \(stride) pad \(pad)")
            } } } }
        }
    }

    func testPoolingValues() {
        let t = Tape()
        let x = t.tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4])
        XCTAssertEqual(t.maxPool2d(x, kernel: 2).toArray(), [5, 7, 13, 15])
        XCTAssertEqual(t.avgPool2d(x, kernel: 2).toArray(), [2.5, 4.5, 10.5, 12.5])
        XCTAssertEqual(t.globalAvgPool(x).toArray(), [7.5])
        XCTAssertEqual(t.maxPool2d(x, kernel: 3, stride: 2, padding: 1).toArray(), [5, 7, 13, 15])
    }

    func testMaxPoolVectorPathMatchesNaiveMaxAndBreaksTiesFirst() {
        let t = Tape()
        let values = distinctValues(3 * 6 * 22, seed: 8)
        let y = t.maxPool2d(t.tensor(values, shape: [1, 3, 6, 22]), kernel: 2)
        for c in 0..<3 { for i in 0..<3 { for j in 0..<11 {
            let at = { (r: Int, q: Int) in values[(c * 6 + r) * 22 + q] }
            XCTAssertEqual(y[0, c, i, j], max(at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1)))
        } } }
        let x = t.variable([Float](repeating: 1, count: 4), shape: [1, 1, 2, 2])
        t.backward(t.sum(t.maxPool2d(x, kernel: 2)))
        XCTAssertEqual(x.gradient, [1, 0, 0, 0], "a tie sends the gradient to the first position only")
    }

    func testBatchNormUpdatesRunningStatistics() {
        let t = Tape()
        let x = t.tensor([1, 2, 3, 5], shape: [4, 1])
        let rm = Tensor(zeros: [1]), rv = Tensor([1], shape: [1])
        let y = t.batchNorm(x, gamma: t.tensor([1], shape: [1]), beta: t.tensor([0], shape: [1]), runningMean: rm, runningVar: rv, momentum: 0.5)
        // mean 2.75, biased var 2.1875, unbiased 2.9166...
        XCTAssertEqual(rm.item, 1.375, accuracy: 1e-6)
        XCTAssertEqual(rv.item, 0.5 + 0.5 * 2.9166667, accuracy: 1e-5)
        XCTAssertEqual(y[0, 0], (1 - 2.75) / (2.1875 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(t.mean(y).item, 0, accuracy: 1e-6)
    }

    func testConcatSliceAndPermuteValues() {
        let t = Tape()
        let a = t.tensor([1, 2, 3, 4], shape: [2, 2]), b = t.tensor([5, 6], shape: [2, 1])
        XCTAssertEqual(t.concat([a, b], axis: 1).toArray(), [1, 2, 5, 3, 4, 6])
        XCTAssertEqual(t.slice(t.concat([a, b], axis: 1), axis: 1, 1..<3).toArray(), [2, 5, 4, 6])
        XCTAssertEqual(t.transpose(t.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])).toArray(), [1, 4, 2, 5, 3, 6])
        let p = t.permute(t.tensor((0..<24).map(Float.init), shape: [2, 3, 4]), [2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p[3, 1, 2], 23)
        XCTAssertEqual(p[1, 0, 2], 9)
    }
}

import Foundation
