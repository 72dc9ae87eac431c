// MARK: - Batch normalization

extension Tape {
    /// Normalizes each channel of `x` ([N, C], [N, C, L] or [N, C, H, W]) then scales by `gamma`
    /// and shifts by `beta`. On a training tape the batch's statistics are used and the
    /// running ones updated in place (`running = (1-m)·running + m·batch`, unbiased
    /// variance, as in common frameworks); on an evaluation tape the running statistics
    /// normalize. Backward (training) is the full batch-statistics derivative:
    /// dx = invstd/M · (M·dx̂ - Σdx̂ - x̂·Σ(dx̂·x̂)).
    public func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor,
                          runningMean: Tensor, runningVar: Tensor,
                          momentum: Float = 0.1, epsilon: Float = 1e-5) -> Tensor {
        precondition(x.rank >= 2, "batchNorm expects [N,C], [N,C,L] or [N,C,H,W], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], hw = x.count / max(n * c, 1)
        precondition(gamma.count == c && beta.count == c && runningMean.count == c && runningVar.count == c,
                     "batchNorm: \(c) channels but parameters of \(gamma.count)/\(beta.count)/\(runningMean.count)/\(runningVar.count)")
        let m = n * hw
        let training = isTraining
        precondition(!training || m > 1, "batchNorm in training needs more than one value per channel, got shape \(x.shape)")
        let recorded = isRecording && (x.requiresGrad || gamma.requiresGrad || beta.requiresGrad)
        let y = output(x.shape, requiresGrad: recorded)
        let mean = scratch(c), invstd = scratch(c)
        let xp = x.pointer, yp = y.pointer
        for ch in 0..<c {
            var mu: Float, variance: Float
            if training {
                // Per-plane sums in Float (vectorized), across planes in Double.
                var s: Double = 0
                for b in 0..<n { s += Double(VectorKernels.sum(xp + (b * c + ch) * hw, hw)) }
                mu = Float(s / Double(m))
                var v: Double = 0
                for b in 0..<n { v += Double(VectorKernels.sumSquaredDeviation(xp + (b * c + ch) * hw, hw, mu)) }
                variance = Float(v / Double(m))
                runningMean.pointer[ch] = (1 - momentum) * runningMean.pointer[ch] + momentum * mu
                runningVar.pointer[ch] = (1 - momentum) * runningVar.pointer[ch] + momentum * Float(v / Double(m - 1))
            } else {
                mu = runningMean.pointer[ch]; variance = runningVar.pointer[ch]
            }
            let inv = 1 / (variance + epsilon).squareRoot()
            mean[ch] = mu; invstd[ch] = inv
            let scale = gamma.pointer[ch] * inv, shift = beta.pointer[ch] - mu * scale
            for b in 0..<n {
                let o = (b * c + ch) * hw
                VectorKernels.scaleShift(xp + o, yp + o, hw, scale, shift)
            }
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y)
            let (dx, fresh) = x.requiresGrad ? tape.gradForOverwrite(x) : (nil, false)
            let dgamma = gamma.requiresGrad ? tape.grad(gamma) : nil
            let dbeta = beta.requiresGrad ? tape.grad(beta) : nil
            for ch in 0..<c {
                let mu = mean[ch], inv = invstd[ch]
                var sumG: Float = 0, sumGXraw: Float = 0   // Σ g and Σ g·x
                for b in 0..<n {
                    let o = (b * c + ch) * hw
                    let (sg, sgx) = VectorKernels.sumAndDot(g + o, xp + o, hw)
                    sumG += sg
                    sumGXraw += sgx
                }
                let sumGX = (sumGXraw - mu * sumG) * inv   // Σ g·x̂
                dgamma?[ch] += sumGX
                dbeta?[ch] += sumG
                guard let dx else { continue }
                let k = gamma.pointer[ch] * inv
                // training: dx = k/M·(M·g - Σg - x̂·Σ(g·x̂)), written as a·g + b·x + c
                let a: Float = k
                let bx: Float = training ? -k * sumGX * inv / Float(m) : 0
                let c0: Float = training ? -k * sumG / Float(m) - bx * mu : 0
                for b in 0..<n {
                    let o = (b * c + ch) * hw
                    VectorKernels.affineCombination(g + o, xp + o, dx + o, hw, a, bx, c0, overwrite: fresh)
                }
            }
        }
        return y
    }
}
