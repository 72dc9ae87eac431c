import Foundation

// MARK: - Layer normalisation (over the last axis)

extension Tape {
    /// (x - mean) / sqrt(var + eps) · gamma + beta along the last axis, the variance
    /// biased (divided by the width), as BERT's LayerNorm computes it. Row statistics are
    /// summed in Double so a 384-wide row matches a Double reference to float rounding.
    ///
    /// Backward, with x̂ the normalised row and r = 1/sqrt(var + eps):
    /// dgamma += Σ_rows g ⊙ x̂, dbeta += Σ_rows g, and with d = g ⊙ gamma,
    /// dx += r · (d - mean(d) - x̂ · mean(d ⊙ x̂)).
    public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let c = x.shape[-1]
        precondition(c > 0 && gamma.count == c && beta.count == c,
                     "layerNorm over width \(c) needs gamma and beta of \(c) values, got \(gamma.count) and \(beta.count)")
        let rows = x.count / c
        let recorded = isRecording && (x.requiresGrad || gamma.requiresGrad || beta.requiresGrad)
        let y = output(x.shape, requiresGrad: recorded)
        // x̂ and r are kept for the backward rule only.
        let normalized = recorded ? scratch(x.count) : nil
        let inverseStd = recorded ? scratch(rows) : nil
        let xp = x.pointer, yp = y.pointer, gp = gamma.pointer, bp = beta.pointer
        for r in 0..<rows {
            let xr = xp + r * c, yr = yp + r * c
            var sum = 0.0
            for j in 0..<c { sum += Double(xr[j]) }
            let mean = sum / Double(c)
            var squares = 0.0
            for j in 0..<c { let d = Double(xr[j]) - mean; squares += d * d }
            let inv = 1 / (squares / Double(c) + Double(epsilon)).squareRoot()
            let m = Float(mean), s = Float(inv)
            for j in 0..<c {
                let h = (xr[j] - m) * s
                normalized?[r * c + j] = h
                yr[j] = h * gp[j] + bp[j]
            }
            inverseStd?[r] = s
        }
        guard recorded, let normalized, let inverseStd else { return y }
        record(y) { tape in
            let g = tape.grad(y)
            if gamma.requiresGrad || beta.requiresGrad {
                let dgamma = gamma.requiresGrad ? tape.grad(gamma) : nil
                let dbeta = beta.requiresGrad ? tape.grad(beta) : nil
                for r in 0..<rows {
                    let gr = g + r * c, hr = normalized + r * c
                    if let dgamma { for j in 0..<c { dgamma[j] += gr[j] * hr[j] } }
                    if let dbeta { VectorKernels.addInPlace(dbeta, gr, c) }
                }
            }
            guard x.requiresGrad else { return }
            let dx = tape.grad(x)
            for r in 0..<rows {
                let gr = g + r * c, hr = normalized + r * c, dr = dx + r * c
                var meanD: Float = 0, meanDH: Float = 0
                for j in 0..<c { let d = gr[j] * gp[j]; meanD += d; meanDH += d * hr[j] }
                meanD /= Float(c); meanDH /= Float(c)
                let s = inverseStd[r]
                for j in 0..<c { dr[j] += s * (gr[j] * gp[j] - meanD - hr[j] * meanDH) }
            }
        }
        return y
    }
}
