// MARK: - Batched matrix product

extension Tape {
    /// `op(a[i]) · op(b[i])` for every leading index i: a [..., m, k] and b [..., k, n]
    /// (before the optional transposes) with equal leading axes give [..., m, n]; one
    /// `cblas_sgemm` per matrix. Attention's scores (Q·Kᵀ) and its mixing (P·V) are this
    /// op over batch × heads.
    ///
    /// Backward per matrix, as `matmul`: dA += dC · op(B)ᵀ (or its transpose when A was
    /// transposed), dB += op(A)ᵀ · dC (likewise).
    public func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 3 && a.rank == b.rank, "batchedMatmul needs two tensors of equal rank ≥ 3, got \(a.shape) and \(b.shape)")
        let lead = Array(a.shape.dims.dropLast(2))
        precondition(lead == Array(b.shape.dims.dropLast(2)), "batchedMatmul leading axes differ: \(a.shape) and \(b.shape)")
        let ar = a.shape[-2], ac = a.shape[-1], br = b.shape[-2], bc = b.shape[-1]
        let m = transposeA ? ac : ar, k = transposeA ? ar : ac
        let kb = transposeB ? bc : br, n = transposeB ? br : bc
        precondition(k == kb, "batchedMatmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let count = lead.reduce(1, *)
        let aStride = ar * ac, bStride = br * bc, cStride = m * n
        let recorded = needsGrad(a, b)
        let c = output(Shape(lead + [m, n]), requiresGrad: recorded)
        let ap = a.pointer, bp = b.pointer, cp = c.pointer
        for i in 0..<count {
            gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: ap + i * aStride, lda: ac,
                 b: bp + i * bStride, ldb: bc, beta: 0, c: cp + i * cStride, ldc: n)
        }
        guard recorded else { return c }
        record(c) { tape in
            let dcAll = tape.grad(c)
            let daAll = a.requiresGrad ? tape.grad(a) : nil
            let dbAll = b.requiresGrad ? tape.grad(b) : nil
            for i in 0..<count {
                let dc = dcAll + i * cStride, ai = ap + i * aStride, bi = bp + i * bStride
                if let daAll {
                    let da = daAll + i * aStride
                    if !transposeA {
                        gemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: dc, lda: n, b: bi, ldb: bc, beta: 1, c: da, ldc: ac)
                    } else {
                        gemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: bi, lda: bc, b: dc, ldb: n, beta: 1, c: da, ldc: ac)
                    }
                }
                if let dbAll {
                    let db = dbAll + i * bStride
                    if !transposeB {
                        gemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: ai, lda: ac, b: dc, ldb: n, beta: 1, c: db, ldc: bc)
                    } else {
                        gemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: dc, lda: n, b: ai, ldb: ac, beta: 1, c: db, ldc: bc)
                    }
                }
            }
        }
        return c
    }
}
