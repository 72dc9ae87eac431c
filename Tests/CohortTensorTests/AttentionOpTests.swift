import Foundation
import XCTest
@testable import CohortTensor

/// LayerNorm, batched matrix products and masked multi-head self-attention: values
/// against direct formulas, backward rules against finite differences.
final class AttentionOpTests: XCTestCase {
    let checker = GradientChecker()

    func testLayerNormValues() {
        let t = Tape()
        let x = t.tensor([1, 2, 3, 4, -1, 0, 1, 2], shape: [2, 4])
        let y = t.layerNorm(x, gamma: t.tensor([1, 1, 2, 2], shape: [4]), beta: t.tensor([0, 0, 0, 1], shape: [4]), epsilon: 0)
        // Row 1: mean 2.5, variance 1.25.
        let s = 1 / Float(1.25).squareRoot()
        let expected: [Float] = [-1.5 * s, -0.5 * s, 2 * 0.5 * s, 2 * 1.5 * s + 1]
        for (a, b) in zip(y.toArray().prefix(4), expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Row 2 is row 1 shifted: the same normalised values.
        XCTAssertEqual(Array(y.toArray().suffix(4)), Array(y.toArray().prefix(4)))
    }

    func testLayerNormGradients() {
        checker.check("layerNorm", [(testValues(15, seed: 3), [3, 5]), (testValues(5, seed: 4, gap: 0.5), [5]), (testValues(5, seed: 5), [5])]) { t, v in
            t.layerNorm(v[0], gamma: v[1], beta: v[2], epsilon: 1e-5)
        }
    }

    func testBatchedMatmulMatchesMatmulPerMatrix() {
        let t = Tape()
        let a = testValues(2 * 3 * 4, seed: 7), b = testValues(2 * 4 * 5, seed: 8)
        let c = t.batchedMatmul(t.tensor(a, shape: [2, 3, 4]), t.tensor(b, shape: [2, 4, 5]))
        XCTAssertEqual(c.shape, Shape([2, 3, 5]))
        for i in 0..<2 {
            let single = t.matmul(t.tensor(Array(a[(i * 12)..<(i * 12 + 12)]), shape: [3, 4]), t.tensor(Array(b[(i * 20)..<(i * 20 + 20)]), shape: [4, 5]))
            XCTAssertEqual(Array(c.toArray()[(i * 15)..<(i * 15 + 15)]), single.toArray())
        }
    }

    func testBatchedMatmulGradients() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let aShape: Shape = ta ? [2, 2, 4, 3] : [2, 2, 3, 4], bShape: Shape = tb ? [2, 2, 5, 4] : [2, 2, 4, 5]
            checker.check("bmm \(ta) \(tb)", [(testValues(48, seed: 11), aShape), (testValues(80, seed: 12), bShape)]) { t, v in
                t.batchedMatmul(v[0], v[1], transposeA: ta, transposeB: tb)
            }
        }
    }

    func testAttentionGradientsWithMask() {
        let attention = MultiHeadAttention(width: 4, heads: 2)
        let model = Model(attention, seed: 5)
        _ = model
        let valid = [true, true, false, true, true, true]
        checker.check("attention", [(testValues(2 * 3 * 4, seed: 13), [2, 3, 4])]) { t, v in
            attention.forward(v[0], mask: MultiHeadAttention.keyMask(valid, batch: 2, tokens: 3, t), t)
        }
        // Changing a masked key's input leaves the other tokens' outputs alone.
        let t = Tape(mode: .evaluation)
        var x = testValues(24, seed: 13)
        let mask = MultiHeadAttention.keyMask(valid, batch: 2, tokens: 3, t)
        let before = attention.forward(t.tensor(x, shape: [2, 3, 4]), mask: mask, t).toArray()
        for j in 8..<12 { x[j] += 3 }
        let after = attention.forward(t.tensor(x, shape: [2, 3, 4]), mask: mask, t).toArray()
        for j in 0..<8 { XCTAssertEqual(before[j], after[j], accuracy: 1e-6) }
    }

    func testEncoderLayerGradients() {
        let layer = TransformerEncoderLayer(width: 4, heads: 2, feedForward: 6, epsilon: 1e-5)
        let model = Model(layer, seed: 9)
        XCTAssertEqual(model.parameterCount, 4 * (16 + 4) + 2 * 8 + 6 * 4 + 6 + 4 * 6 + 4)
        checker.check("encoder layer", [(testValues(2 * 3 * 4, seed: 17), [2, 3, 4])]) { t, v in layer(v[0], t) }
    }
}
