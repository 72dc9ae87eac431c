// MARK: - 1-D convolution (unfold + GEMM)

extension Tape {
    /// y[b, o, t] = bias[o] + Σ_c Σ_j w[o, c, j] · x[b, c, t·stride + j - padding], zero
    /// outside x (pad circularly first with `pad(_:axis:before:after:mode:)` for a
    /// periodic domain). x is [B, C, n], w is [O, C, k].
    ///
    /// Forward unfolds x into columns cols[(c, j), (b, t)] and takes one GEMM
    /// W [O, C·k] · cols. Backward: dW += dY · colsᵀ, dcols = Wᵀ · dY folded back onto
    /// dx, dbias += Σ_{b,t} dY.
    public func conv1d(_ x: Tensor, weight w: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(x.rank == 3 && w.rank == 3, "conv1d needs x [B, C, n] and w [O, C, k], got \(x.shape) and \(w.shape)")
        let batch = x.shape[0], channels = x.shape[1], n = x.shape[2]
        let outs = w.shape[0], k = w.shape[2]
        precondition(w.shape[1] == channels, "conv1d: input has \(channels) channels, the weight expects \(w.shape[1])")
        precondition(stride > 0 && padding >= 0 && n + 2 * padding >= k, "conv1d: kernel \(k) does not fit \(n) + 2x\(padding)")
        if let bias { precondition(bias.count == outs, "conv1d bias has \(bias.count) values, need \(outs)") }
        let length = (n + 2 * padding - k) / stride + 1
        let columns = batch * length, patch = channels * k
        let recorded = isRecording && (x.requiresGrad || w.requiresGrad || (bias?.requiresGrad ?? false))
        let y = output([batch, outs, length], requiresGrad: recorded)
        let cols = scratch(patch * columns), product = scratch(outs * columns)
        let xp = x.pointer
        for c in 0..<channels { for j in 0..<k {
            let row = cols + (c * k + j) * columns
            for b in 0..<batch {
                let src = xp + (b * channels + c) * n, dst = row + b * length
                for t in 0..<length {
                    let i = t * stride + j - padding
                    dst[t] = i >= 0 && i < n ? src[i] : 0
                }
            }
        } }
        gemm(transA: false, transB: false, m: outs, n: columns, k: patch, a: w.pointer, lda: patch,
             b: cols, ldb: columns, beta: 0, c: product, ldc: columns)
        let yp = y.pointer
        for b in 0..<batch { for o in 0..<outs {
            let dst = yp + (b * outs + o) * length, src = product + o * columns + b * length
            let shift = bias?.pointer[o] ?? 0
            for t in 0..<length { dst[t] = src[t] + shift }
        } }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y)
            let gm = tape.scratch(outs * columns)   // dY as [O, (b, t)]
            for b in 0..<batch { for o in 0..<outs {
                (gm + o * columns + b * length).update(from: g + (b * outs + o) * length, count: length)
            } }
            if let bias, bias.requiresGrad {
                let db = tape.grad(bias)
                for o in 0..<outs { db[o] += VectorKernels.sum(gm + o * columns, columns) }
            }
            if w.requiresGrad {
                gemm(transA: false, transB: true, m: outs, n: patch, k: columns, a: gm, lda: columns,
                     b: cols, ldb: columns, beta: 1, c: tape.grad(w), ldc: patch)
            }
            if x.requiresGrad {
                let dcols = tape.scratch(patch * columns)
                gemm(transA: true, transB: false, m: patch, n: columns, k: outs, a: w.pointer, lda: patch,
                     b: gm, ldb: columns, beta: 0, c: dcols, ldc: columns)
                let dx = tape.grad(x)
                for c in 0..<channels { for j in 0..<k {
                    let row = dcols + (c * k + j) * columns
                    for b in 0..<batch {
                        let dst = dx + (b * channels + c) * n, src = row + b * length
                        for t in 0..<length {
                            let i = t * stride + j - padding
                            if i >= 0 && i < n { dst[i] += src[t] }
                        }
                    }
                } }
            }
        }
        return y
    }
}
