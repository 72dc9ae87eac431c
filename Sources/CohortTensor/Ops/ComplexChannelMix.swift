// MARK: - Per-frequency complex channel mixing

extension Tape {
    /// y[b, o, f] = Σ_i x[b, i, f] · w[o, i, f] in complex arithmetic, for x [B, I, F]
    /// and w [O, I, F]: a convolution's channel sum, taken frequency by frequency.
    ///
    /// Backward: dx[b, i, f] += Σ_o g[b, o, f] · conj(w[o, i, f]) and
    /// dw[o, i, f] += Σ_b g[b, o, f] · conj(x[b, i, f]).
    public func complexChannelMix(_ x: ComplexTensor, _ w: ComplexTensor) -> ComplexTensor {
        precondition(x.rank == 3 && w.rank == 3, "channel mixing needs x [B, I, F] and w [O, I, F], got \(x.shape) and \(w.shape)")
        let batch = x.shape[0], ins = x.shape[1], freqs = x.shape[2], outs = w.shape[0]
        precondition(w.shape[1] == ins && w.shape[2] == freqs, "channel mixing: x \(x.shape) and w \(w.shape) disagree")
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
}
