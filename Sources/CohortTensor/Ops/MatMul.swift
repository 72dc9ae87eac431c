// MARK: - Matrix product

extension Tape {
    /// `op(a) · op(b)` for 2-D tensors, where op transposes when asked; one `cblas_sgemm`.
    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let lda = a.shape[1], ldb = b.shape[1]
        let recorded = needsGrad(a, b)
        let c = output([m, n], requiresGrad: recorded)
        gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a.pointer, lda: lda,
             b: b.pointer, ldb: ldb, beta: 0, c: c.pointer, ldc: n)
        guard recorded else { return c }
        record(c) { tape in
            let dc = tape.grad(c)
            if a.requiresGrad {
                let da = tape.grad(a)
                if !transposeA {   // dA (m x k) += dC · op(B)ᵀ
                    gemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: dc, lda: n,
                         b: b.pointer, ldb: ldb, beta: 1, c: da, ldc: lda)
                } else {           // dA (k x m) += op(B) · dCᵀ
                    gemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: b.pointer, lda: ldb,
                         b: dc, ldb: n, beta: 1, c: da, ldc: lda)
                }
            }
            if b.requiresGrad {
                let db = tape.grad(b)
                if !transposeB {   // dB (k x n) += op(A)ᵀ · dC
                    gemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: a.pointer, lda: lda,
                         b: dc, ldb: n, beta: 1, c: db, ldc: ldb)
                } else {           // dB (n x k) += dCᵀ · op(A)
                    gemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: dc, lda: n,
                         b: a.pointer, ldb: lda, beta: 1, c: db, ldc: ldb)
                }
            }
        }
        return c
    }

    // MARK: - Affine map (fused matmul + bias)

    /// `x · wᵀ + bias` with `w` shaped [out, in] and `x` shaped [..., in]: the fully
    /// connected layer in one GEMM (bias pre-filled, beta = 1).
    public func linear(_ x: Tensor, weight w: Tensor, bias: Tensor?) -> Tensor {
        precondition(w.rank == 2, "linear weight must be [out, in], got \(w.shape)")
        let inF = w.shape[1], outF = w.shape[0]
        precondition(x.rank >= 1 && x.shape[-1] == inF, "linear expects inputs [..., \(inF)], got \(x.shape)")
        if let bias { precondition(bias.count == outF, "linear bias has \(bias.count) values, need \(outF)") }
        let rows = x.count / inF
        let recorded = isRecording && (x.requiresGrad || w.requiresGrad || (bias?.requiresGrad ?? false))
        let y = output(x.shape.replacing(-1, with: outF), requiresGrad: recorded)
        let yp = y.pointer
        if let bias {
            let bp = bias.pointer
            for r in 0..<rows { (yp + r * outF).update(from: bp, count: outF) }
        }
        gemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x.pointer, lda: inF,
             b: w.pointer, ldb: inF, beta: bias == nil ? 0 : 1, c: yp, ldc: outF)
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y)
            if x.requiresGrad {   // dX += dY · W
                let (dx, fresh) = tape.gradForOverwrite(x)
                gemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: dy, lda: outF,
                     b: w.pointer, ldb: inF, beta: fresh ? 0 : 1, c: dx, ldc: inF)
            }
            if w.requiresGrad {   // dW += dYᵀ · X
                gemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: dy, lda: outF,
                     b: x.pointer, ldb: inF, beta: 1, c: tape.grad(w), ldc: inF)
            }
            if let bias, bias.requiresGrad {   // db += column sums of dY
                let db = tape.grad(bias)
                for r in 0..<rows { VectorKernels.addInPlace(db, dy + r * outF, outF) }
            }
        }
        return y
    }
}
