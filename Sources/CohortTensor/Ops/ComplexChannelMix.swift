// MARK: - Per-frequency complex channel mixing

extension Tape {
    /// y[b, o, f] = Σ_i x[b, i, f] · w[o, i, f] in complex arithmetic, for x [B, I, F]
    /// and w [O, I, F]: a convolution's channel sum, taken frequency by frequency.
    ///
    /// Backward: dx[b, i, f] += Σ_o g[b, o, f] · conj(w[o, i, f]) and
    /// dw[o, i, f] += Σ_b g[b, o, f] · conj(x[b, i, f]).
    ///
    /// Wide channel counts go through BLAS: both operands are transposed to frequency-major
    /// order and each frequency is four real GEMMs (a complex product); narrow ones
    /// (a first layer with one input channel) run the direct loops below.
    public func complexChannelMix(_ x: ComplexTensor, _ w: ComplexTensor) -> ComplexTensor {
        precondition(x.rank == 3 && w.rank == 3, "channel mixing needs x [B, I, F] and w [O, I, F], got \(x.shape) and \(w.shape)")
        let batch = x.shape[0], ins = x.shape[1], freqs = x.shape[2], outs = w.shape[0]
        precondition(w.shape[1] == ins && w.shape[2] == freqs, "channel mixing: x \(x.shape) and w \(w.shape) disagree")
        if ins * outs >= 64 && batch > 1 { return complexChannelMixByFrequency(x, w) }
        let recorded = isRecording && (x.requiresGrad || w.requiresGrad)
        let (pair, y) = complexOutput([batch, outs, freqs], requiresGrad: recorded)
        let xr = x.real.pointer, xi = x.imag.pointer, wr = w.real.pointer, wi = w.imag.pointer
        let yr = y.real.pointer, yi = y.imag.pointer
        yr.update(repeating: 0, count: y.count)
        yi.update(repeating: 0, count: y.count)
        for b in 0..<batch {
            for o in 0..<outs {
                let dr = yr + (b * outs + o) * freqs, di = yi + (b * outs + o) * freqs
                for i in 0..<ins {
                    let ar = xr + (b * ins + i) * freqs, ai = xi + (b * ins + i) * freqs
                    let cr = wr + (o * ins + i) * freqs, ci = wi + (o * ins + i) * freqs
                    for f in 0..<freqs {
                        dr[f] += ar[f] * cr[f] - ai[f] * ci[f]
                        di[f] += ar[f] * ci[f] + ai[f] * cr[f]
                    }
                }
            }
        }
        guard recorded else { return y }
        record(pair) { tape in
            let g = tape.grad(pair)
            let gr = g, gi = g + y.count
            let (dxr, dxi) = tape.complexGrads(x)
            if dxr != nil || dxi != nil {
                for b in 0..<batch {
                    for i in 0..<ins {
                        let row = (b * ins + i) * freqs
                        for o in 0..<outs {
                            let sr = gr + (b * outs + o) * freqs, si = gi + (b * outs + o) * freqs
                            let cr = wr + (o * ins + i) * freqs, ci = wi + (o * ins + i) * freqs
                            if let dxr { for f in 0..<freqs { dxr[row + f] += sr[f] * cr[f] + si[f] * ci[f] } }
                            if let dxi { for f in 0..<freqs { dxi[row + f] += si[f] * cr[f] - sr[f] * ci[f] } }
                        }
                    }
                }
            }
            let (dwr, dwi) = tape.complexGrads(w)
            if dwr != nil || dwi != nil {
                for o in 0..<outs {
                    for i in 0..<ins {
                        let row = (o * ins + i) * freqs
                        for b in 0..<batch {
                            let sr = gr + (b * outs + o) * freqs, si = gi + (b * outs + o) * freqs
                            let ar = xr + (b * ins + i) * freqs, ai = xi + (b * ins + i) * freqs
                            if let dwr { for f in 0..<freqs { dwr[row + f] += sr[f] * ar[f] + si[f] * ai[f] } }
                            if let dwi { for f in 0..<freqs { dwi[row + f] += si[f] * ar[f] - sr[f] * ai[f] } }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `complexChannelMix` as per-frequency complex GEMMs: Y_f = X_f · W_fᵀ with X_f
    /// [B, I], W_f [O, I]; backward dX_f = G_f · conj(W_f), dW_f = G_fᵀ · conj(X_f).
    private func complexChannelMixByFrequency(_ x: ComplexTensor, _ w: ComplexTensor) -> ComplexTensor {
        let batch = x.shape[0], ins = x.shape[1], freqs = x.shape[2], outs = w.shape[0]
        let recorded = isRecording && (x.requiresGrad || w.requiresGrad)
        let (pair, y) = complexOutput([batch, outs, freqs], requiresGrad: recorded)
        let xs = batch * ins, ws = outs * ins, ys = batch * outs
        // Frequency-major copies: xt[f][b][i], wt[f][o][i], yt[f][b][o] (real, then imaginary).
        let xt = scratch(2 * xs * freqs), wt = scratch(2 * ws * freqs), yt = scratch(2 * ys * freqs)
        toFrequencyMajor(x.real.pointer, xt, rows: xs, freqs: freqs)
        toFrequencyMajor(x.imag.pointer, xt + xs * freqs, rows: xs, freqs: freqs)
        toFrequencyMajor(w.real.pointer, wt, rows: ws, freqs: freqs)
        toFrequencyMajor(w.imag.pointer, wt + ws * freqs, rows: ws, freqs: freqs)
        for f in 0..<freqs {
            let xr = xt + f * xs, xi = xr + xs * freqs, wr = wt + f * ws, wi = wr + ws * freqs
            let yr = yt + f * ys, yi = yr + ys * freqs
            gemm(transA: false, transB: true, m: batch, n: outs, k: ins, a: xr, lda: ins, b: wr, ldb: ins, beta: 0, c: yr, ldc: outs)
            gemm(transA: false, transB: true, m: batch, n: outs, k: ins, alpha: -1, a: xi, lda: ins, b: wi, ldb: ins, beta: 1, c: yr, ldc: outs)
            gemm(transA: false, transB: true, m: batch, n: outs, k: ins, a: xr, lda: ins, b: wi, ldb: ins, beta: 0, c: yi, ldc: outs)
            gemm(transA: false, transB: true, m: batch, n: outs, k: ins, a: xi, lda: ins, b: wr, ldb: ins, beta: 1, c: yi, ldc: outs)
        }
        fromFrequencyMajor(yt, y.real.pointer, rows: ys, freqs: freqs, accumulate: false)
        fromFrequencyMajor(yt + ys * freqs, y.imag.pointer, rows: ys, freqs: freqs, accumulate: false)
        guard recorded else { return y }
        record(pair) { tape in
            let g = tape.grad(pair)
            let gt = tape.scratch(2 * ys * freqs)
            toFrequencyMajor(g, gt, rows: ys, freqs: freqs)
            toFrequencyMajor(g + y.count, gt + ys * freqs, rows: ys, freqs: freqs)
            let (dxr, dxi) = tape.complexGrads(x)
            if dxr != nil || dxi != nil {
                let dt = tape.scratch(2 * xs * freqs)
                for f in 0..<freqs {
                    let gr = gt + f * ys, gi = gr + ys * freqs, wr = wt + f * ws, wi = wr + ws * freqs
                    let dr = dt + f * xs, di = dr + xs * freqs
                    gemm(transA: false, transB: false, m: batch, n: ins, k: outs, a: gr, lda: outs, b: wr, ldb: ins, beta: 0, c: dr, ldc: ins)
                    gemm(transA: false, transB: false, m: batch, n: ins, k: outs, a: gi, lda: outs, b: wi, ldb: ins, beta: 1, c: dr, ldc: ins)
                    gemm(transA: false, transB: false, m: batch, n: ins, k: outs, a: gi, lda: outs, b: wr, ldb: ins, beta: 0, c: di, ldc: ins)
                    gemm(transA: false, transB: false, m: batch, n: ins, k: outs, alpha: -1, a: gr, lda: outs, b: wi, ldb: ins, beta: 1, c: di, ldc: ins)
                }
                if let dxr { fromFrequencyMajor(dt, dxr, rows: xs, freqs: freqs, accumulate: true) }
                if let dxi { fromFrequencyMajor(dt + xs * freqs, dxi, rows: xs, freqs: freqs, accumulate: true) }
            }
            let (dwr, dwi) = tape.complexGrads(w)
            if dwr != nil || dwi != nil {
                let dt = tape.scratch(2 * ws * freqs)
                for f in 0..<freqs {
                    let gr = gt + f * ys, gi = gr + ys * freqs, xr = xt + f * xs, xi = xr + xs * freqs
                    let dr = dt + f * ws, di = dr + ws * freqs
                    gemm(transA: true, transB: false, m: outs, n: ins, k: batch, a: gr, lda: outs, b: xr, ldb: ins, beta: 0, c: dr, ldc: ins)
                    gemm(transA: true, transB: false, m: outs, n: ins, k: batch, a: gi, lda: outs, b: xi, ldb: ins, beta: 1, c: dr, ldc: ins)
                    gemm(transA: true, transB: false, m: outs, n: ins, k: batch, a: gi, lda: outs, b: xr, ldb: ins, beta: 0, c: di, ldc: ins)
                    gemm(transA: true, transB: false, m: outs, n: ins, k: batch, alpha: -1, a: gr, lda: outs, b: xi, ldb: ins, beta: 1, c: di, ldc: ins)
                }
                if let dwr { fromFrequencyMajor(dt, dwr, rows: ws, freqs: freqs, accumulate: true) }
                if let dwi { fromFrequencyMajor(dt + ws * freqs, dwi, rows: ws, freqs: freqs, accumulate: true) }
            }
        }
        return y
    }
}

/// [rows, freqs] -> [freqs, rows], in 32 x 32 tiles so reads and writes both stay in cache.
private func toFrequencyMajor(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, freqs: Int) {
    let tile = 32
    for r0 in stride(from: 0, to: rows, by: tile) { for f0 in stride(from: 0, to: freqs, by: tile) {
        for r in r0..<min(r0 + tile, rows) { for f in f0..<min(f0 + tile, freqs) { dst[f * rows + r] = src[r * freqs + f] } }
    } }
}

/// [freqs, rows] -> [rows, freqs], overwriting or adding, in tiles.
private func fromFrequencyMajor(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, freqs: Int, accumulate: Bool) {
    let tile = 32
    for r0 in stride(from: 0, to: rows, by: tile) { for f0 in stride(from: 0, to: freqs, by: tile) {
        for r in r0..<min(r0 + tile, rows) {
            if accumulate {
                for f in f0..<min(f0 + tile, freqs) { dst[r * freqs + f] += src[f * rows + r] }
            } else {
                for f in f0..<min(f0 + tile, freqs) { dst[r * freqs + f] = src[f * rows + r] }
            }
        }
    } }
}
