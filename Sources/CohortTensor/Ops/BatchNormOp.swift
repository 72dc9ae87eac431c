// MARK: - Batch normalization

/// Sums per-channel statistics over the replicas that share one batch, for
/// synchronised batch norm: replaces every value of the buffer by its sum over the
/// replicas (an allreduce). The tensor core knows nothing of ranks; a data-parallel
/// trainer passes the closure, and every replica must call it in the same order.
public typealias ChannelStatisticsSum = (inout [Double]) -> Void

extension Tape {
    /// Normalizes each channel of `x` ([N, C], [N, C, L] or [N, C, H, W]) then scales by `gamma`
    /// and shifts by `beta`. On a training tape the batch's statistics are used and the
    /// running ones updated in place (`running = (1-m)·running + m·batch`, unbiased
    /// variance, as in common frameworks); on an evaluation tape the running statistics
    /// normalize. Backward (training) is the full batch-statistics derivative:
    /// dx = invstd/M · (M·dx̂ - Σdx̂ - x̂·Σ(dx̂·x̂)).
    ///
    /// With `synchronise` (training only), the batch is the union of every replica's
    /// shard: the forward pass sums each channel's count and values over the replicas,
    /// then the squared deviations from that mean (two sums, so the variance keeps the
    /// two-pass accuracy), and the backward pass sums Σdx̂ and Σ(dx̂·x) the same way.
    /// The gradients of `gamma` and `beta` stay this replica's share, as every other
    /// parameter's gradient does before the data-parallel gradient sum.
    public func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor,
                          runningMean: Tensor, runningVar: Tensor,
                          momentum: Float = 0.1, epsilon: Float = 1e-5,
                          synchronise: ChannelStatisticsSum? = nil) -> Tensor {
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
        let synchronise = training ? synchronise : nil
        // Synchronised: the whole batch's count, means and variances, from two sums over replicas.
        var globalCount = m
        var globalMean: [Double] = [], globalVariance: [Double] = []
        if let synchronise {
            var sums = [Double](repeating: 0, count: c + 1)
            for ch in 0..<c { for b in 0..<n { sums[ch] += Double(VectorKernels.sum(xp + (b * c + ch) * hw, hw)) } }
            sums[c] = Double(m)
            synchronise(&sums)
            globalCount = Int(sums[c])
            globalMean = (0..<c).map { sums[$0] / sums[c] }
            var deviations = [Double](repeating: 0, count: c)
            for ch in 0..<c {
                for b in 0..<n { deviations[ch] += Double(VectorKernels.sumSquaredDeviation(xp + (b * c + ch) * hw, hw, Float(globalMean[ch]))) }
            }
            synchronise(&deviations)
            globalVariance = deviations
        }
        for ch in 0..<c {
            var mu: Float, variance: Float
            if synchronise != nil {
                mu = Float(globalMean[ch])
                variance = Float(globalVariance[ch] / Double(globalCount))
                runningMean.pointer[ch] = (1 - momentum) * runningMean.pointer[ch] + momentum * mu
                runningVar.pointer[ch] = (1 - momentum) * runningVar.pointer[ch]
                    + momentum * Float(globalVariance[ch] / Double(Swift.max(globalCount - 1, 1)))
            } else if training {
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
            // Σ g and Σ g·x per channel, this replica's; summed over replicas when synchronised.
            var local = [Float](repeating: 0, count: 2 * c)
            for ch in 0..<c {
                for b in 0..<n {
                    let o = (b * c + ch) * hw
                    let (sg, sgx) = VectorKernels.sumAndDot(g + o, xp + o, hw)
                    local[ch] += sg
                    local[c + ch] += sgx
                }
            }
            var whole = local
            if let synchronise, dx != nil {
                var sums = local.map(Double.init)
                synchronise(&sums)
                whole = sums.map(Float.init)
            }
            let count = Float(globalCount)
            for ch in 0..<c {
                let mu = mean[ch], inv = invstd[ch]
                dgamma?[ch] += (local[c + ch] - mu * local[ch]) * inv   // Σ g·x̂ (this replica's)
                dbeta?[ch] += local[ch]
                guard let dx else { continue }
                let sumG = whole[ch], sumGX = (whole[c + ch] - mu * sumG) * inv
                let k = gamma.pointer[ch] * inv
                // training: dx = k/M·(M·g - Σg - x̂·Σ(g·x̂)), written as a·g + b·x + c
                let a: Float = k
                let bx: Float = training ? -k * sumGX * inv / count : 0
                let c0: Float = training ? -k * sumG / count - bx * mu : 0
                for b in 0..<n {
                    let o = (b * c + ch) * hw
                    VectorKernels.affineCombination(g + o, xp + o, dx + o, hw, a, bx, c0, overwrite: fresh)
                }
            }
        }
        return y
    }
}
