import XCTest
@testable import CohortTensor

/// Compares a tape's gradients with central finite differences.
///
/// The scalar checked is L = Σ wᵢ·yᵢ with fixed, uneven weights w, so every output
/// element matters with a different sign and size. L is accumulated in Double and the
/// step is 1e-2, where Float32 rounding (≈1e-7 relative) and the O(ε²) truncation are
/// both far below the tolerance.
struct GradientChecker {
    var epsilon: Float = 1e-2
    var absoluteTolerance: Float = 4e-3
    var relativeTolerance: Float = 1e-2
    var mode: Tape.Mode = .training

    func check(_ name: String, _ inputs: [(values: [Float], shape: Shape)],
               file: StaticString = #filePath, line: UInt = #line,
               _ f: (Tape, [Tensor]) -> Tensor) {
        let tape = Tape(mode: mode, recordsGradients: true)
        let xs = inputs.map { tape.variable($0.values, shape: $0.shape) }
        let y = f(tape, xs)
        let weights = (0..<y.count).map { Float(sin(Double($0) * 1.37 + 0.4)) + 0.1 }
        let loss = tape.sum(tape.mul(y, tape.tensor(weights, shape: y.shape)))
        tape.backward(loss)
        let analytic = xs.map { $0.gradient ?? [Float](repeating: 0, count: $0.count) }

        func evaluate(_ values: [[Float]]) -> Double {
            let t = Tape(mode: mode)
            return t.withoutGradients {
                let ts = zip(values, inputs).map { t.tensor($0, shape: $1.shape) }
                let out = f(t, ts)
                var s: Double = 0
                for i in 0..<out.count { s += Double(out.pointer[i]) * Double(weights[i]) }
                return s
            }
        }
        var values = inputs.map(\.values)
        var worst: Float = 0
        for j in 0..<values.count {
            for i in 0..<values[j].count {
                let original = values[j][i]
                values[j][i] = original + epsilon
                let plus = evaluate(values)
                values[j][i] = original - epsilon
                let minus = evaluate(values)
                values[j][i] = original
                let numeric = Float((plus - minus) / Double(2 * epsilon))
                let error = abs(numeric - analytic[j][i])
                worst = max(worst, error)
                if error > absoluteTolerance + relativeTolerance * abs(numeric) {
                    XCTFail("\(name): d/dinput\(j)[\(i)] analytic \(analytic[j][i]) vs numeric \(numeric)", file: file, line: line)
                    return
                }
            }
        }
    }
}

/// Deterministic test values in roughly [-1, 1], kept at least `gap` away from zero so
/// kinks (ReLU at 0) never fall inside a finite-difference step.
func testValues(_ count: Int, seed: UInt64 = 1, gap: Float = 0) -> [Float] {
    var rng = RandomStream(seed: seed, stream: 99)
    return (0..<count).map { _ in
        var v = rng.uniform() * 2 - 1
        if abs(v) < gap { v = v < 0 ? v - gap : v + gap }
        return v
    }
}

/// Values that are pairwise at least `spacing` apart (max-pooling ties would make the
/// derivative undefined), in shuffled order.
func distinctValues(_ count: Int, seed: UInt64 = 2, spacing: Float = 0.05) -> [Float] {
    var rng = RandomStream(seed: seed, stream: 7)
    var v = (0..<count).map { Float($0) * spacing - Float(count) * spacing / 2 }
    rng.shuffle(&v)
    return v
}
