import CohortTensor
import XCTest
@testable import CohortORCA

/// MMD against its formula, the embedders' shapes and starts, and the network's layout.
final class AlignmentTests: XCTestCase {
    func testMMDMatchesTheFormulaAndVanishesOnEqualSamples() {
        let x: [Float] = [0, 0, 1, 0, 0, 2], y: [Float] = [1, 1, 2, 2]
        let mmd = MaximumMeanDiscrepancy(bandwidth: 1.5)
        let t = Tape(mode: .evaluation)
        let value = Double(mmd(t.tensor(x, shape: [3, 2]), t.tensor(y, shape: [2, 2]), t).item)
        func k(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
            let d = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            return MaximumMeanDiscrepancy.scales.reduce(0.0) { $0 + exp(-d / (2 * Double($1) * 1.5)) }
        }
        func mean(_ a: [Float], _ b: [Float]) -> Double {
            var s = 0.0
            for i in 0..<(a.count / 2) { for j in 0..<(b.count / 2) { s += k(a[(2 * i)..<(2 * i + 2)], b[(2 * j)..<(2 * j + 2)]) } }
            return s / Double(a.count / 2 * b.count / 2)
        }
        XCTAssertEqual(value, mean(x, x) + mean(y, y) - 2 * mean(x, y), accuracy: 1e-5)
        XCTAssertEqual(Double(mmd(t.tensor(x, shape: [3, 2]), t.tensor(x, shape: [3, 2]), t).item), 0, accuracy: 1e-6)
        XCTAssertEqual(MaximumMeanDiscrepancy(medianOf: [0, 0, 3, 4, 0, 1], width: 2).bandwidth, 18, "squared distances 25, 1 and 18: the median is 18")
    }

    func testGradientStepsLowerTheMMD() {
        let mmd = MaximumMeanDiscrepancy(bandwidth: 1)
        var x: [Float] = [1.5, 1.5, 1.2, 1.8, 1.8, 1.0]
        let y: [Float] = [0, 0, 0.5, -0.5, -0.2, 0.1]
        var values: [Float] = []
        for _ in 0..<40 {
            let t = Tape()
            let xt = t.variable(x, shape: [3, 2])
            let d = mmd(xt, t.tensor(y, shape: [3, 2]), t)
            values.append(d.item)
            t.backward(d)
            x = zip(x, xt.gradient!).map { $0 - 0.3 * $1 }
        }
        XCTAssertLessThan(values.last!, values.first! * 0.5, "\(values)")
        XCTAssertEqual(zip(values, values.dropFirst()).filter { $1 > $0 }.count, 0, "small steps never raise it: \(values)")
    }

    func testEmbeddersStartFromTheBodysPositions() {
        let positions = (0..<(4 * 8)).map { Float($0) / 10 }
        let patches = PatchEmbedder(length: 16, patch: 4, width: 8, positions: positions)
        let table = FeatureTokenEmbedder(features: 4, width: 8, positions: positions)
        for (embedder, input) in [(patches as Module, [Float](repeating: 0.5, count: 2 * 16)), (table, [Float](repeating: 0.5, count: 2 * 4))] {
            _ = Model(embedder, seed: 3)
            let t = Tape(mode: .evaluation)
            let out = embedder(t.tensor(input, shape: [2, input.count / 2]), t)
            XCTAssertEqual(out.shape, Shape([2, 4, 8]))
            XCTAssertEqual(embedder.namedParameters().first { $0.name == "positions" }!.parameter.tensor.toArray(), positions)
        }
    }

    func testTheEmbedderIsOneContiguousRangeAndHeadsShapeTheOutput() {
        let body = BertEncoder(.tiny(vocabulary: 16), includesEmbeddings: false)
        let fields = ORCANetwork(embedder: PatchEmbedder(length: 16, patch: 4, width: 8, positions: nil), tokens: 4, body: body, head: .patches(4))
        let model = Model(fields, seed: 1)
        let range = fields.embedderRange(in: model)
        XCTAssertEqual(range.count, fields.embedder.namedParameters().reduce(0) { $0 + $1.parameter.shape.count })
        XCTAssertEqual(model.parameterCount, range.count + body.namedParameters().reduce(0) { $0 + $1.parameter.shape.count } + 8 * 4 + 4)
        let t = Tape(mode: .evaluation)
        XCTAssertEqual(model(t.tensor([Float](repeating: 0.1, count: 32), shape: [2, 16]), t).shape, Shape([2, 16]))
        let classes = ORCANetwork(embedder: FeatureTokenEmbedder(features: 5, width: 8, positions: nil), tokens: 5,
                                  body: BertEncoder(.tiny(vocabulary: 16), includesEmbeddings: false), head: .classes(3))
        let m2 = Model(classes, seed: 1)
        XCTAssertEqual(m2(t.tensor([Float](repeating: 0.1, count: 10), shape: [2, 5]), t).shape, Shape([2, 3]))
    }
}
