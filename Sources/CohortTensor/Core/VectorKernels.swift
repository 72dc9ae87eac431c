/// Explicitly vectorized loops for the elementwise work around the GEMMs.
///
/// Swift does not reassociate floating-point sums, so a plain `s += x[i]` loop runs one
/// add per FP latency; and loops reading and writing through several pointers often
/// stay scalar. These kernels work on 8-wide SIMD blocks with several accumulators and
/// finish the tail elementwise.
enum VectorKernels {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }

    /// Σ x[i].
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = V(), b = V()
        var i = 0
        while i + 16 <= n { a += load(x, i); b += load(x, i + 8); i += 16 }
        if i + 8 <= n { a += load(x, i); i += 8 }
        var s = (a + b).sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x[i]·y[i].
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = V(), b = V()
        var i = 0
        while i + 16 <= n { a += load(x, i) * load(y, i); b += load(x, i + 8) * load(y, i + 8); i += 16 }
        if i + 8 <= n { a += load(x, i) * load(y, i); i += 8 }
        var s = (a + b).sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// (Σ g[i], Σ g[i]·x[i]) in one pass over g.
    @inline(__always)
    static func sumAndDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var s0 = V(), s1 = V(), d0 = V(), d1 = V()
        var i = 0
        while i + 16 <= n {
            let g0 = load(g, i), g1 = load(g, i + 8)
            s0 += g0; s1 += g1; d0 += g0 * load(x, i); d1 += g1 * load(x, i + 8); i += 16
        }
        if i + 8 <= n { let g0 = load(g, i); s0 += g0; d0 += g0 * load(x, i); i += 8 }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < n { s += g[i]; d += g[i] * x[i]; i += 1 }
        return (s, d)
    }

    /// dst[i] += src[i].
    @inline(__always)
    static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(load(dst, i) + load(src, i), dst, i); i += 8 }
        while i < n { dst[i] += src[i]; i += 1 }
    }

    /// y[i] = x[i]·scale + shift.
    @inline(__always)
    static func scaleShift(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ scale: Float, _ shift: Float) {
        let s = V(repeating: scale), t = V(repeating: shift)
        var i = 0
        while i + 8 <= n { store(load(x, i) * s + t, y, i); i += 8 }
        while i < n { y[i] = x[i] * scale + shift; i += 1 }
    }

    /// y = max(x, 0).
    @inline(__always)
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let zero = V()
        var i = 0
        while i + 8 <= n { store(load(x, i).replacing(with: zero, where: load(x, i) .< zero), y, i); i += 8 }
        while i < n { y[i] = x[i] > 0 ? x[i] : 0; i += 1 }
    }

    /// dx (+)= g where y > 0, else (+)0. `overwrite` writes instead of accumulating.
    @inline(__always)
    static func reluBackward(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                             _ n: Int, overwrite: Bool) {
        let zero = V()
        var i = 0
        if overwrite {
            while i + 8 <= n { store(load(g, i).replacing(with: zero, where: load(y, i) .<= zero), dx, i); i += 8 }
            while i < n { dx[i] = y[i] > 0 ? g[i] : 0; i += 1 }
        } else {
            while i + 8 <= n { store(load(dx, i) + load(g, i).replacing(with: zero, where: load(y, i) .<= zero), dx, i); i += 8 }
            while i < n { dx[i] += y[i] > 0 ? g[i] : 0; i += 1 }
        }
    }

    /// Σ (x[i] - mean)².
    @inline(__always)
    static func sumSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, _ mean: Float) -> Float {
        let m = V(repeating: mean)
        var a = V(), b = V()
        var i = 0
        while i + 16 <= n {
            let d0 = load(x, i) - m, d1 = load(x, i + 8) - m
            a += d0 * d0; b += d1 * d1; i += 16
        }
        if i + 8 <= n { let d = load(x, i) - m; a += d * d; i += 8 }
        var s = (a + b).sum()
        while i < n { let d = x[i] - mean; s += d * d; i += 1 }
        return s
    }

    /// out (+)= a·g + b·x + c.
    @inline(__always)
    static func affineCombination(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                  _ n: Int, _ a: Float, _ b: Float, _ c: Float, overwrite: Bool) {
        let va = V(repeating: a), vb = V(repeating: b), vc = V(repeating: c)
        var i = 0
        if overwrite {
            while i + 8 <= n { store(va * load(g, i) + vb * load(x, i) + vc, out, i); i += 8 }
            while i < n { out[i] = a * g[i] + b * x[i] + c; i += 1 }
        } else {
            while i + 8 <= n { store(load(out, i) + va * load(g, i) + vb * load(x, i) + vc, out, i); i += 8 }
            while i < n { out[i] += a * g[i] + b * x[i] + c; i += 1 }
        }
    }
}
