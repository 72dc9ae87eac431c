import Foundation

// MARK: - GRU over a batch-first sequence

extension Tape {
    /// One GRU layer over `x` [B, T, I] (gates in the order reset, update, new):
    ///
    ///     [r z] = σ(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh)   (first 2H columns)
    ///     n = tanh(x_t·W_inᵀ + b_in + r⊙(h_{t-1}·W_hnᵀ + b_hn))
    ///     h_t = (1 - z)⊙n + z⊙h_{t-1}
    ///
    /// `weightIH` is [3H, I], `weightHH` [3H, H], `biasIH` and `biasHH` [3H] (two biases,
    /// because r multiplies only the hidden part of the new gate). The initial state
    /// [B, H] defaults to zeros. As `lstm`: the input part is one GEMM before the loop,
    /// one GEMM per step after it, and backward runs through time in reverse.
    public func gru(_ x: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor,
                    initialHidden h0: Tensor? = nil) -> RecurrentOutput {
        precondition(x.rank == 3, "gru expects inputs [batch, steps, features], got \(x.shape)")
        let b = x.shape[0], steps = x.shape[1], inF = x.shape[2]
        let h = weightHH.shape.rank == 2 ? weightHH.shape[1] : 0, g = 3 * h
        precondition(h > 0 && weightHH.shape == Shape([g, h]), "gru weightHH must be [3H, H], got \(weightHH.shape)")
        precondition(weightIH.shape == Shape([g, inF]), "gru weightIH must be [\(g), \(inF)], got \(weightIH.shape)")
        precondition(biasIH.count == g && biasHH.count == g, "gru biases must hold \(g) values each")
        if let h0 { precondition(h0.shape == Shape([b, h]), "gru initial state must be [\(b), \(h)], got \(h0.shape)") }
        precondition(steps > 0, "gru needs at least one step")

        let recorded = isRecording && (x.requiresGrad || weightIH.requiresGrad || weightHH.requiresGrad
            || biasIH.requiresGrad || biasHH.requiresGrad || (h0?.requiresGrad ?? false))
        let y = output([b, steps, h], requiresGrad: recorded)
        let inputGates = scratch(b * steps * g)    // x part, then activated [r z n], [B, T, 3H]
        let hiddenGates = scratch(b * steps * g)   // h_{t-1}·W_hhᵀ + b_hh, [B, T, 3H]
        let yp = y.pointer
        for r in 0 ..< b * steps {
            (inputGates + r * g).update(from: biasIH.pointer, count: g)
            (hiddenGates + r * g).update(from: biasHH.pointer, count: g)
        }
        gemm(transA: false, transB: true, m: b * steps, n: g, k: inF, a: x.pointer, lda: inF,
             b: weightIH.pointer, ldb: inF, beta: 1, c: inputGates, ldc: g)
        let rowG = steps * g, rowH = steps * h
        for t in 0 ..< steps {
            if t > 0 {
                gemm(transA: false, transB: true, m: b, n: g, k: h, a: yp + (t - 1) * h, lda: rowH,
                     b: weightHH.pointer, ldb: h, beta: 1, c: hiddenGates + t * g, ldc: rowG)
            } else if let h0 {
                gemm(transA: false, transB: true, m: b, n: g, k: h, a: h0.pointer, lda: h,
                     b: weightHH.pointer, ldb: h, beta: 1, c: hiddenGates, ldc: rowG)
            }
            for n in 0 ..< b {
                let xi = inputGates + n * rowG + t * g, hg = hiddenGates + n * rowG + t * g
                let hPrev: UnsafeMutablePointer<Float>? = t > 0 ? yp + n * rowH + (t - 1) * h : h0.map { $0.pointer + n * h }
                let out = yp + n * rowH + t * h
                for j in 0 ..< h {
                    let r = logistic(xi[j] + hg[j]), z = logistic(xi[h + j] + hg[h + j])
                    let nv = Foundation.tanh(xi[2 * h + j] + r * hg[2 * h + j])
                    xi[j] = r; xi[h + j] = z; xi[2 * h + j] = nv
                    out[j] = (1 - z) * nv + z * (hPrev?[j] ?? 0)
                }
            }
        }
        let lastH = output([b, h], requiresGrad: false)
        for n in 0 ..< b { (lastH.pointer + n * h).update(from: yp + n * rowH + (steps - 1) * h, count: h) }
        guard recorded else { return RecurrentOutput(sequence: y, hidden: lastH, cell: nil) }

        record(y) { tape in
            let dy = tape.grad(y)
            let dgi = tape.scratch(b * steps * g), dgh = tape.scratch(b * steps * g)
            let dh = tape.scratch(b * h)
            dh.update(repeating: 0, count: b * h)
            let dwhh = weightHH.requiresGrad ? tape.grad(weightHH) : nil
            let dbhh = biasHH.requiresGrad ? tape.grad(biasHH) : nil
            for t in stride(from: steps - 1, through: 0, by: -1) {
                for n in 0 ..< b {
                    let gates = inputGates + n * rowG + t * g, hg = hiddenGates + n * rowG + t * g
                    let di = dgi + n * rowG + t * g, dhg = dgh + n * rowG + t * g
                    let hPrev: UnsafeMutablePointer<Float>? = t > 0 ? yp + n * rowH + (t - 1) * h : h0.map { $0.pointer + n * h }
                    let dyt = dy + n * rowH + t * h, dhn = dh + n * h
                    for j in 0 ..< h {
                        let r = gates[j], z = gates[h + j], nv = gates[2 * h + j]
                        let dhv = dyt[j] + dhn[j]
                        let dnPre = dhv * (1 - z) * (1 - nv * nv)
                        let dzPre = dhv * ((hPrev?[j] ?? 0) - nv) * z * (1 - z)
                        let drPre = dnPre * hg[2 * h + j] * r * (1 - r)
                        di[j] = drPre; di[h + j] = dzPre; di[2 * h + j] = dnPre
                        dhg[j] = drPre; dhg[h + j] = dzPre; dhg[2 * h + j] = dnPre * r
                        dhn[j] = dhv * z   // the direct path; the gates' path is added below
                    }
                }
                let dght = dgh + t * g
                if let dbhh { for n in 0 ..< b { VectorKernels.addInPlace(dbhh, dght + n * rowG, g) } }
                let hPrev: (UnsafePointer<Float>, Int)? = t > 0 ? (UnsafePointer(yp + (t - 1) * h), rowH) : h0.map { (UnsafePointer($0.pointer), h) }
                if let dwhh, let prev = hPrev {   // dW_hh += dGh_tᵀ · h_{t-1}
                    gemm(transA: true, transB: false, m: g, n: h, k: b, a: dght, lda: rowG, b: prev.0, ldb: prev.1,
                         beta: 1, c: dwhh, ldc: h)
                }
                // dh_{t-1} = dh⊙z + dGh_t · W_hh
                gemm(transA: false, transB: false, m: b, n: h, k: g, a: dght, lda: rowG, b: weightHH.pointer, ldb: h,
                     beta: 1, c: dh, ldc: h)
            }
            if let h0, h0.requiresGrad { VectorKernels.addInPlace(tape.grad(h0), dh, b * h) }
            tape.recurrentInputGradients(x: x, weightIH: weightIH, bias: biasIH, dGates: dgi, rows: b * steps, width: g)
        }
        return RecurrentOutput(sequence: y, hidden: lastH, cell: nil)
    }
}
