// MARK: - Sum and mean over axes

extension Tape {
    /// Sum over `axes` (all axes when nil); reduced axes are kept as 1 when `keepDims`.
    /// Backward broadcasts the gradient back over the reduced axes.
    public func sum(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(x, axes: axes, keepDims: keepDims, mean: false)
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(x, axes: axes, keepDims: keepDims, mean: true)
    }

    private func reduce(_ x: Tensor, axes: [Int]?, keepDims: Bool, mean: Bool) -> Tensor {
        let rank = x.rank
        let reduced = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        precondition(reduced.allSatisfy { $0 >= 0 && $0 < rank }, "reduction axes \(axes ?? []) out of range for shape \(x.shape)")
        var kept = x.shape.dims, final: [Int] = []
        var folded = 1
        for i in 0..<rank {
            if reduced.contains(i) { folded *= kept[i]; kept[i] = 1; if keepDims { final.append(1) } } else { final.append(kept[i]) }
        }
        let scale: Float = mean ? 1 / Float(Swift.max(folded, 1)) : 1
        let keptShape = Shape(kept)
        let walk = Broadcast(output: x.shape, a: x.shape, b: keptShape)
        let recorded = needsGrad(x)
        let y = output(Shape(final), requiresGrad: recorded)
        let yp = y.pointer, xp = x.pointer
        yp.update(repeating: 0, count: y.count)
        walk.walk { o, _, _, bo, sb, n in
            accumulate(yp + bo, sb, n) { xp[o + $0] }
        }
        if scale != 1 { for i in 0..<y.count { yp[i] *= scale } }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            walk.walk { o, _, _, bo, sb, n in
                let d = dx + o, gr = g + bo
                for i in 0..<n { d[i] += gr[i * sb] * scale }
            }
        }
        return y
    }
}
