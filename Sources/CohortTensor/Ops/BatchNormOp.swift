// MARK: - Batch normalization

extension Tape {
    /// Normalizes each channel of `x` ([N, C] or [N, C, H, W]) then scales by `gamma`
    /// and shifts by `beta`. On a training tape the batch's statistics are used and the
    /// running ones updated in place (`running = (1-m)·running + m·batch`, unbiased
    /// variance, as in common frameworks); on an evaluation tape the running statistics
    /// normalize. Backward (training) is the full batch-statistics derivative:
    /// dx = invstd/M · (M·dx̂ - Σdx̂ - x̂·Σ(dx̂·x̂)).
    public func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor,
                          runningMean: Tensor, runningVar: Tensor,
                          momentum: Float = 0.1, epsilon: Float = 1e-5) -> Tensor {
        precondition(x.rank == 2 || x.rank == 4, "batchNorm expects [N,C] or [N,C,H,W], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], hw = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
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
                var s: Double = 0
                for b in 0..<n { let r = xp + (b * c + ch) * hw; for i in 0..<hw { s += Double(r[i]) } }
                let mu64 = s / Double(m)
                var v: Double = 0
                for b in 0..<n { let r = xp + (b * c + ch) * hw; for i in 0..<hw { let d = Double(r[i]) - mu64; v += d * d } }
                mu = Float(mu64); variance = Float(v / Double(m))
                runningMean.pointer[ch] = (1 - momentum) * runningMean.pointer[ch] + momentum * mu
                runningVar.pointer[ch] = (1 - momentum) * runningVar.pointer[ch] + momentum * Float(v / Double(m - 1))
            } else {
                mu = runningMean.pointer[ch]; variance = runningVar.pointer[ch]
            }
            let inv = 1 / (variance + epsilon).squareRoot()
            mean[ch] = mu; invstd[ch] = inv
            let scale = gamma.pointer[ch] * inv, shift = beta.pointer[ch] - mu * scale
            for b in 0..<n {
                let r = xp + (b * c + ch) * hw, o = yp + (b * c + ch) * hw
                for i in 0..<hw { o[i] = r[i] * scale + shift }
            }
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y)
            let dx = x.requiresGrad ? tape.grad(x) : nil
            let dgamma = gamma.requiresGrad ? tape.grad(gamma) : nil
            let dbeta = beta.requiresGrad ? tape.grad(beta) : nil
            for ch in 0..<c {
                let mu = mean[ch], inv = invstd[ch]
                var sumG: Float = 0, sumGX: Float = 0   // Σ g and Σ g·x̂
                for b in 0..<n {
                    let r = xp + (b * c + ch) * hw, gr = g + (b * c + ch) * hw
                    for i in 0..<hw { sumG += gr[i]; sumGX += gr[i] * (r[i] - mu) * inv }
                }
                dgamma?[ch] += sumGX
                dbeta?[ch] += sumG
                guard let dx else { continue }
                let gam = gamma.pointer[ch]
                if training {
                    let k = gam * inv / Float(m)
                    let meanG = sumG, meanGX = sumGX
                    for b in 0..<n {
                        let r = xp + (b * c + ch) * hw, gr = g + (b * c + ch) * hw, d = dx + (b * c + ch) * hw
                        for i in 0..<hw {
                            let xhat = (r[i] - mu) * inv
                            d[i] += k * (Float(m) * gr[i] - meanG - xhat * meanGX)
                        }
                    }
                } else {
                    let k = gam * inv
                    for b in 0..<n {
                        let gr = g + (b * c + ch) * hw, d = dx + (b * c + ch) * hw
                        for i in 0..<hw { d[i] += k * gr[i] }
                    }
                }
            }
        }
        return y
    }
}
