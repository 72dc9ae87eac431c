import Foundation

// MARK: - LSTM over a batch-first sequence

/// What a recurrent op returns: the hidden state of every step, and the last step's
/// states as plain values (no gradient flows back through them), which a caller copies
/// into the next segment's initial state for truncated backpropagation through time.
public struct RecurrentOutput {
    /// [B, T, H]: the hidden state after each step.
    public let sequence: Tensor
    /// [B, H]: the hidden state after the last step.
    public let hidden: Tensor
    /// [B, H]: the LSTM cell after the last step (nil for a GRU).
    public let cell: Tensor?
}

extension Tape {
    /// One LSTM layer over `x` [B, T, I] (gates in the order input, forget, cell, output):
    ///
    ///     g = x_t·W_ihᵀ + h_{t-1}·W_hhᵀ + b,  [i f c̃ o] = [σ σ tanh σ](g)
    ///     c_t = f⊙c_{t-1} + i⊙c̃,  h_t = o⊙tanh(c_t)
    ///
    /// `weightIH` is [4H, I], `weightHH` [4H, H], `bias` [4H]; the initial states [B, H]
    /// default to zeros and receive gradients when they require them. The input part of
    /// every step is one GEMM over all B·T rows before the loop; each step adds one
    /// [B, H]·[H, 4H] GEMM. Backward runs through time in reverse, keeping the running
    /// dh and dc, and finishes with one GEMM each for dx and dW_ih.
    public func lstm(_ x: Tensor, weightIH: Tensor, weightHH: Tensor, bias: Tensor,
                     initialHidden h0: Tensor? = nil, initialCell c0: Tensor? = nil) -> RecurrentOutput {
        precondition(x.rank == 3, "lstm expects inputs [batch, steps, features], got \(x.shape)")
        let b = x.shape[0], steps = x.shape[1], inF = x.shape[2]
        let h = weightHH.shape.rank == 2 ? weightHH.shape[1] : 0, g = 4 * h
        precondition(h > 0 && weightHH.shape == Shape([g, h]), "lstm weightHH must be [4H, H], got \(weightHH.shape)")
        precondition(weightIH.shape == Shape([g, inF]), "lstm weightIH must be [\(g), \(inF)], got \(weightIH.shape)")
        precondition(bias.count == g, "lstm bias must hold \(g) values, got \(bias.count)")
        for s in [h0, c0] { if let s { precondition(s.shape == Shape([b, h]), "lstm initial state must be [\(b), \(h)], got \(s.shape)") } }
        precondition(steps > 0, "lstm needs at least one step")

        let recorded = isRecording && (x.requiresGrad || weightIH.requiresGrad || weightHH.requiresGrad
            || bias.requiresGrad || (h0?.requiresGrad ?? false) || (c0?.requiresGrad ?? false))
        let y = output([b, steps, h], requiresGrad: recorded)
        let gates = scratch(b * steps * g)      // activated gates, [B, T, 4H]
        let cells = scratch(b * steps * h)      // c_t, [B, T, H]
        let yp = y.pointer, bp = bias.pointer
        for r in 0 ..< b * steps { (gates + r * g).update(from: bp, count: g) }
        gemm(transA: false, transB: true, m: b * steps, n: g, k: inF, a: x.pointer, lda: inF,
             b: weightIH.pointer, ldb: inF, beta: 1, c: gates, ldc: g)
        let rowG = steps * g, rowH = steps * h
        for t in 0 ..< steps {
            let gt = gates + t * g
            if t > 0 {
                gemm(transA: false, transB: true, m: b, n: g, k: h, a: yp + (t - 1) * h, lda: rowH,
                     b: weightHH.pointer, ldb: h, beta: 1, c: gt, ldc: rowG)
            } else if let h0 {
                gemm(transA: false, transB: true, m: b, n: g, k: h, a: h0.pointer, lda: h,
                     b: weightHH.pointer, ldb: h, beta: 1, c: gt, ldc: rowG)
            }
            for n in 0 ..< b {
                let row = gt + n * rowG
                let cPrev: UnsafeMutablePointer<Float>? = t > 0 ? cells + n * rowH + (t - 1) * h : c0.map { $0.pointer + n * h }
                let c = cells + n * rowH + t * h, out = yp + n * rowH + t * h
                for j in 0 ..< h {
                    let i = logistic(row[j]), f = logistic(row[h + j])
                    let cand = Foundation.tanh(row[2 * h + j]), o = logistic(row[3 * h + j])
                    row[j] = i; row[h + j] = f; row[2 * h + j] = cand; row[3 * h + j] = o
                    let cv = f * (cPrev?[j] ?? 0) + i * cand
                    c[j] = cv
                    out[j] = o * Foundation.tanh(cv)
                }
            }
        }
        let lastH = output([b, h], requiresGrad: false), lastC = output([b, h], requiresGrad: false)
        for n in 0 ..< b {
            (lastH.pointer + n * h).update(from: yp + n * rowH + (steps - 1) * h, count: h)
            (lastC.pointer + n * h).update(from: cells + n * rowH + (steps - 1) * h, count: h)
        }
        guard recorded else { return RecurrentOutput(sequence: y, hidden: lastH, cell: lastC) }

        record(y) { tape in
            let dy = tape.grad(y)
            let dg = tape.scratch(b * steps * g)
            let dh = tape.scratch(b * h), dc = tape.scratch(b * h)
            dh.update(repeating: 0, count: b * h)
            dc.update(repeating: 0, count: b * h)
            let dwhh = weightHH.requiresGrad ? tape.grad(weightHH) : nil
            for t in stride(from: steps - 1, through: 0, by: -1) {
                for n in 0 ..< b {
                    let row = gates + n * rowG + t * g, drow = dg + n * rowG + t * g
                    let c = cells + n * rowH + t * h
                    let cPrev: UnsafeMutablePointer<Float>? = t > 0 ? cells + n * rowH + (t - 1) * h : c0.map { $0.pointer + n * h }
                    let dyt = dy + n * rowH + t * h, dhn = dh + n * h, dcn = dc + n * h
                    for j in 0 ..< h {
                        let i = row[j], f = row[h + j], cand = row[2 * h + j], o = row[3 * h + j]
                        let tc = Foundation.tanh(c[j])
                        let dhv = dyt[j] + dhn[j]
                        let dcv = dcn[j] + dhv * o * (1 - tc * tc)
                        drow[j] = dcv * cand * i * (1 - i)
                        drow[h + j] = dcv * (cPrev?[j] ?? 0) * f * (1 - f)
                        drow[2 * h + j] = dcv * i * (1 - cand * cand)
                        drow[3 * h + j] = dhv * tc * o * (1 - o)
                        dcn[j] = dcv * f
                    }
                }
                let dgt = dg + t * g
                let hPrev: (UnsafePointer<Float>, Int)? = t > 0 ? (UnsafePointer(yp + (t - 1) * h), rowH) : h0.map { (UnsafePointer($0.pointer), h) }
                if let dwhh, let prev = hPrev {   // dW_hh += dG_tᵀ · h_{t-1}
                    gemm(transA: true, transB: false, m: g, n: h, k: b, a: dgt, lda: rowG, b: prev.0, ldb: prev.1,
                         beta: 1, c: dwhh, ldc: h)
                }
                if t > 0 || (h0?.requiresGrad ?? false) {   // dh_{t-1} = dG_t · W_hh
                    gemm(transA: false, transB: false, m: b, n: h, k: g, a: dgt, lda: rowG, b: weightHH.pointer, ldb: h,
                         beta: 0, c: dh, ldc: h)
                }
            }
            if let h0, h0.requiresGrad { VectorKernels.addInPlace(tape.grad(h0), dh, b * h) }
            if let c0, c0.requiresGrad { VectorKernels.addInPlace(tape.grad(c0), dc, b * h) }
            tape.recurrentInputGradients(x: x, weightIH: weightIH, bias: bias, dGates: dg, rows: b * steps, width: g)
        }
        return RecurrentOutput(sequence: y, hidden: lastH, cell: lastC)
    }

    /// The part of a recurrent layer's backward shared by LSTM and GRU: from the input
    /// gates' gradients dG [B·T, width], dx += dG·W_ih, dW_ih += dGᵀ·x, db += Σ rows of dG.
    func recurrentInputGradients(x: Tensor, weightIH: Tensor, bias: Tensor?, dGates dg: UnsafePointer<Float>,
                                 rows: Int, width g: Int) {
        let inF = x.shape[2]
        if x.requiresGrad {
            let (dx, fresh) = gradForOverwrite(x)
            gemm(transA: false, transB: false, m: rows, n: inF, k: g, a: dg, lda: g, b: weightIH.pointer, ldb: inF,
                 beta: fresh ? 0 : 1, c: dx, ldc: inF)
        }
        if weightIH.requiresGrad {
            gemm(transA: true, transB: false, m: g, n: inF, k: rows, a: dg, lda: g, b: x.pointer, ldb: inF,
                 beta: 1, c: grad(weightIH), ldc: inF)
        }
        if let bias, bias.requiresGrad {
            let db = grad(bias)
            for r in 0 ..< rows { VectorKernels.addInPlace(db, dg + r * g, g) }
        }
    }
}

@inline(__always)
func logistic(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
