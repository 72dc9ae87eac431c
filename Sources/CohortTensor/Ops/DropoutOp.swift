// MARK: - Dropout

extension Tape {
    /// Zeroes each element with probability `p` and scales survivors by 1/(1-p)
    /// (inverted dropout), drawing from `rng`. Identity on an evaluation tape or when
    /// p = 0. Backward multiplies by the same mask.
    public func dropout(_ x: Tensor, probability p: Float, rng: inout RandomStream) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        guard isTraining, p > 0 else { return x }
        let n = x.count
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        let mask = scratch(n)
        let keep = 1 / (1 - p)
        let xp = x.pointer, yp = y.pointer
        for i in 0..<n {
            mask[i] = rng.uniform() < p ? 0 : keep
            yp[i] = xp[i] * mask[i]
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            for i in 0..<n { dx[i] += g[i] * mask[i] }
        }
        return y
    }
}
