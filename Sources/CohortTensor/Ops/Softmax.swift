import Foundation

// MARK: - Softmax family (over the last axis)

extension Tape {
    /// exp(x - max) / sum exp(x - max) along the last axis; dx = y ⊙ (g - Σ g⊙y).
    public func softmax(_ x: Tensor) -> Tensor {
        let c = x.shape[-1], rows = x.count / Swift.max(c, 1)
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        for r in 0..<rows { softmaxRow(x.pointer + r * c, y.pointer + r * c, c) }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x), yp = y.pointer
            for r in 0..<rows {
                let gr = g + r * c, yr = yp + r * c, d = dx + r * c
                var dot: Float = 0
                for j in 0..<c { dot += gr[j] * yr[j] }
                for j in 0..<c { d[j] += yr[j] * (gr[j] - dot) }
            }
        }
        return y
    }

    /// x - logsumexp(x) along the last axis; dx = g - softmax(x) Σ g.
    public func logSoftmax(_ x: Tensor) -> Tensor {
        let c = x.shape[-1], rows = x.count / Swift.max(c, 1)
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        for r in 0..<rows {
            let xr = x.pointer + r * c, yr = y.pointer + r * c
            let lse = logSumExp(xr, c)
            for j in 0..<c { yr[j] = xr[j] - lse }
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x), yp = y.pointer
            for r in 0..<rows {
                let gr = g + r * c, yr = yp + r * c, d = dx + r * c
                var total: Float = 0
                for j in 0..<c { total += gr[j] }
                for j in 0..<c { d[j] += gr[j] - Foundation.exp(yr[j]) * total }
            }
        }
        return y
    }
}

/// Numerically stable softmax of one row.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ c: Int) {
    var m = -Float.infinity
    for j in 0..<c { m = Swift.max(m, x[j]) }
    var s: Float = 0
    for j in 0..<c { let e = Foundation.exp(x[j] - m); y[j] = e; s += e }
    let inv = 1 / s
    for j in 0..<c { y[j] *= inv }
}

/// log Σ exp(x) of one row, shifted by the max for stability.
@inline(__always)
func logSumExp(_ x: UnsafePointer<Float>, _ c: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<c { m = Swift.max(m, x[j]) }
    var s: Float = 0
    for j in 0..<c { s += Foundation.exp(x[j] - m) }
    return m + Foundation.log(s)
}
