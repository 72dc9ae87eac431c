// MARK: - 2-D convolution (im2col + GEMM)

/// Geometry of one convolution or pooling window sweep over NCHW input.
struct ConvGeometry {
    let n, c, h, w: Int
    let kh, kw, stride, padding: Int
    var oh: Int { (h + 2 * padding - kh) / stride + 1 }
    var ow: Int { (w + 2 * padding - kw) / stride + 1 }
    var positions: Int { oh * ow }
    var patch: Int { c * kh * kw }

    /// First and one-past-last output column whose input column `ow*stride - padding + kj`
    /// falls inside the image.
    @inline(__always)
    func validColumns(_ kj: Int) -> (Int, Int) {
        var lo = 0
        while lo < ow && lo * stride - padding + kj < 0 { lo += 1 }
        var hi = ow
        while hi > lo && (hi - 1) * stride - padding + kj >= w { hi -= 1 }
        return (lo, hi)
    }
}

/// Unfolds `count` images starting at `x` into columns: row (c, ki, kj) of `cols`
/// (row length `ld`) holds, for each image s and output position p, the input pixel
/// under kernel tap (ki, kj); zero where the tap falls in the padding.
func im2col(_ g: ConvGeometry, _ x: UnsafePointer<Float>, count: Int,
            _ cols: UnsafeMutablePointer<Float>, ld: Int) {
    let plane = g.h * g.w, p = g.positions
    for ci in 0..<g.c { for ki in 0..<g.kh { for kj in 0..<g.kw {
        let row = cols + ((ci * g.kh + ki) * g.kw + kj) * ld
        let (lo, hi) = g.validColumns(kj)
        for s in 0..<count {
            let src = x + (s * g.c + ci) * plane
            let dstImage = row + s * p
            for oy in 0..<g.oh {
                let dst = dstImage + oy * g.ow
                let iy = oy * g.stride - g.padding + ki
                // Rows are short (tens of pixels): plain loops beat memcpy/memset calls.
                if iy < 0 || iy >= g.h || lo >= hi {
                    for ox in 0..<g.ow { dst[ox] = 0 }
                    continue
                }
                for ox in 0..<lo { dst[ox] = 0 }
                for ox in hi..<g.ow { dst[ox] = 0 }
                let srow = src + iy * g.w - g.padding + kj
                if g.stride == 1 {
                    for ox in lo..<hi { dst[ox] = srow[ox] }
                } else {
                    for ox in lo..<hi { dst[ox] = srow[ox * g.stride] }
                }
            }
        }
    } } }
}

/// The adjoint of `im2col`: adds every column entry back onto the pixel it came from.
func col2imAdd(_ g: ConvGeometry, _ cols: UnsafePointer<Float>, ld: Int, count: Int,
               _ dx: UnsafeMutablePointer<Float>) {
    let plane = g.h * g.w, p = g.positions
    for ci in 0..<g.c { for ki in 0..<g.kh { for kj in 0..<g.kw {
        let row = cols + ((ci * g.kh + ki) * g.kw + kj) * ld
        let (lo, hi) = g.validColumns(kj)
        guard lo < hi else { continue }
        for s in 0..<count {
            let dstImage = dx + (s * g.c + ci) * plane
            let srcImage = row + s * p
            for oy in 0..<g.oh {
                let iy = oy * g.stride - g.padding + ki
                if iy < 0 || iy >= g.h { continue }
                let src = srcImage + oy * g.ow
                let drow = dstImage + iy * g.w - g.padding + kj
                if g.stride == 1 {
                    VectorKernels.addInPlace(drow + lo, src + lo, hi - lo)
                } else {
                    for ox in lo..<hi { drow[ox * g.stride] += src[ox] }
                }
            }
        }
    } } }
}

extension Tape {
    /// Cross-correlation of `x` [N, C, H, W] with `weight` [O, C, kh, kw], plus `bias` [O].
    /// Stride 1 runs the direct vector kernels (``DirectConvolution``) where the CPU has
    /// them; otherwise images are processed in chunks: im2col into [C·kh·kw, S·P] columns and one GEMM
    /// per chunk, so small images still make GEMMs big enough to run at BLAS speed.
    /// Backward reuses the forward pass's columns for dW = dY·colsᵀ and computes
    /// dX = col2im(Wᵀ·dY) chunk by chunk.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(x.rank == 4 && weight.rank == 4, "conv2d expects x [N,C,H,W] and weight [O,C,kh,kw], got \(x.shape) and \(weight.shape)")
        precondition(weight.shape[1] == x.shape[1], "conv2d: input has \(x.shape[1]) channels, weight expects \(weight.shape[1])")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be >= 1 and padding >= 0")
        let g = ConvGeometry(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3],
                             kh: weight.shape[2], kw: weight.shape[3], stride: stride, padding: padding)
        precondition(g.oh > 0 && g.ow > 0, "conv2d: kernel \(g.kh)x\(g.kw) does not fit input \(g.h)x\(g.w) with padding \(padding)")
        let o = weight.shape[0], k = g.patch, p = g.positions
        if let bias { precondition(bias.count == o, "conv2d bias has \(bias.count) values, need \(o)") }
        let recorded = isRecording && (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false))
        if DirectConvolution.applies(to: g, outputs: o) {
            return directConv2d(x, weight: weight, bias: bias, geometry: g, recorded: recorded)
        }
        // About 4 MB of columns per chunk: big enough GEMMs, small enough to stay mostly in cache.
        let chunk = Swift.max(1, Swift.min(g.n, (1 << 20) / Swift.max(k * p, 1)))
        let y = output([g.n, o, g.oh, g.ow], requiresGrad: recorded)
        // When the weight gradient will be needed the columns of every chunk are kept
        // (chunk by chunk, each block [K, S·P]) so backward need not unfold again.
        let keepsColumns = recorded && weight.requiresGrad
        let cols = scratch(k * (keepsColumns ? g.n : chunk) * p), tmp = scratch(o * chunk * p)
        var start = 0
        while start < g.n {
            let s = Swift.min(chunk, g.n - start), ld = s * p
            let block = keepsColumns ? cols + k * start * p : cols
            im2col(g, x.pointer + start * g.c * g.h * g.w, count: s, block, ld: ld)
            gemm(transA: false, transB: false, m: o, n: ld, k: k, a: weight.pointer, lda: k,
                 b: block, ldb: ld, beta: 0, c: tmp, ldc: ld)
            for si in 0..<s {
                let dst = y.pointer + (start + si) * o * p
                for oc in 0..<o {
                    let src = tmp + oc * ld + si * p, d = dst + oc * p
                    let b = bias?.pointer[oc] ?? 0
                    VectorKernels.scaleShift(src, d, p, 1, b)
                }
            }
            start += s
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y)
            let dyT = tape.scratch(o * chunk * p)
            let dcols = x.requiresGrad ? tape.scratch(k * chunk * p) : nil
            let dx = x.requiresGrad ? tape.grad(x) : nil
            let dw = weight.requiresGrad ? tape.grad(weight) : nil
            let db = (bias?.requiresGrad ?? false) ? tape.grad(bias!) : nil
            var start = 0
            while start < g.n {
                let s = Swift.min(chunk, g.n - start), ld = s * p
                for si in 0..<s {   // gather dY of the chunk as [O, S·P]
                    let src = dy + (start + si) * o * p
                    for oc in 0..<o { (dyT + oc * ld + si * p).update(from: src + oc * p, count: p) }
                }
                if let db {
                    for oc in 0..<o { db[oc] += VectorKernels.sum(dyT + oc * ld, ld) }
                }
                if let dw {   // the forward pass kept these columns
                    gemm(transA: false, transB: true, m: o, n: k, k: ld, a: dyT, lda: ld,
                         b: cols + k * start * p, ldb: ld, beta: 1, c: dw, ldc: k)
                }
                if let dx, let dcols {
                    gemm(transA: true, transB: false, m: k, n: ld, k: o, a: weight.pointer, lda: k,
                         b: dyT, ldb: ld, beta: 0, c: dcols, ldc: ld)
                    col2imAdd(g, dcols, ld: ld, count: s, dx + start * g.c * g.h * g.w)
                }
                start += s
            }
        }
        return y
    }
}
