// MARK: - Reshape, flatten, transpose

extension Tape {
    /// The same elements under a new shape; a view: no copy, and the gradient is shared
    /// with `x`, so there is no backward rule. One dimension may be -1 (inferred).
    public func reshape(_ x: Tensor, _ dims: [Int]) -> Tensor {
        var ds = dims
        if let i = ds.firstIndex(of: -1) {
            let known = ds.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && x.count % known == 0, "cannot reshape \(x.shape) to \(dims)")
            ds[i] = x.count / known
        }
        let shape = Shape(ds)
        precondition(shape.count == x.count, "cannot reshape \(x.shape) (\(x.count) elements) to \(shape)")
        return view(of: x, shape: shape)
    }

    public func reshape(_ x: Tensor, _ shape: Shape) -> Tensor { reshape(x, shape.dims) }

    /// [N, ...] → [N, rest]: keeps the leading (batch) axis.
    public func flatten(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1, "flatten needs a batch axis")
        return reshape(x, [x.shape[0], -1])
    }

    /// Axes reordered: output axis i is input axis `axes[i]` (a copy).
    /// Backward applies the inverse permutation.
    public func permute(_ x: Tensor, _ axes: [Int]) -> Tensor {
        let rank = x.rank
        precondition(axes.count == rank && Set(axes) == Set(0..<rank), "permute axes \(axes) invalid for shape \(x.shape)")
        let outShape = Shape(axes.map { x.shape[$0] })
        // Strides of the input as seen in output order, padded to 4-D on the left.
        var inStrides = [Int](repeating: 0, count: rank)
        var s = 1
        for i in stride(from: rank - 1, through: 0, by: -1) { inStrides[i] = s; s *= x.shape[i] }
        let pad = 4 - rank
        var st = [0, 0, 0, 0], od = [1, 1, 1, 1]
        for i in 0..<rank { st[pad + i] = inStrides[axes[i]]; od[pad + i] = outShape[i] }
        let recorded = needsGrad(x)
        let y = output(outShape, requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer
        permuteWalk(od, st) { o, i in yp[o] = xp[i] }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            permuteWalk(od, st) { o, i in dx[i] += g[o] }
        }
        return y
    }

    /// Swaps the last two axes.
    public func transpose(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2, "transpose needs at least 2 axes, got \(x.shape)")
        var axes = Array(0..<x.rank)
        axes.swapAt(x.rank - 1, x.rank - 2)
        return permute(x, axes)
    }
}

@inline(__always)
private func permuteWalk(_ od: [Int], _ st: [Int], _ body: (Int, Int) -> Void) {
    var o = 0
    for a in 0..<od[0] { for b in 0..<od[1] { for c in 0..<od[2] {
        let base = a * st[0] + b * st[1] + c * st[2]
        for d in 0..<od[3] { body(o, base + d * st[3]); o += 1 }
    } } }
}

// MARK: - Concatenate and slice

extension Tape {
    /// Joins tensors along `axis`; all other dimensions must agree.
    /// Backward hands each input its block of the gradient.
    public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        precondition(!xs.isEmpty, "concat needs at least one tensor")
        let first = xs[0].shape
        let ax = axis < 0 ? axis + first.rank : axis
        precondition(ax >= 0 && ax < first.rank, "concat axis \(axis) out of range for \(first)")
        var total = 0
        for x in xs {
            precondition(x.rank == first.rank && (0..<first.rank).allSatisfy { $0 == ax || x.shape[$0] == first[$0] },
                         "concat along axis \(ax): shape \(x.shape) does not match \(first)")
            total += x.shape[ax]
        }
        let outShape = first.replacing(ax, with: total)
        let (outer, _, inner) = outShape.outerInner(ax)
        let recorded = isRecording && xs.contains { $0.requiresGrad }
        let y = output(outShape, requiresGrad: recorded)
        let rowOut = total * inner
        var start = 0
        for x in xs {
            let block = x.shape[ax] * inner
            for o in 0..<outer { (y.pointer + o * rowOut + start).update(from: x.pointer + o * block, count: block) }
            start += block
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y)
            var start = 0
            for x in xs {
                let block = x.shape[ax] * inner
                if x.requiresGrad {
                    let dx = tape.grad(x)
                    for o in 0..<outer {
                        let src = g + o * rowOut + start, dst = dx + o * block
                        for i in 0..<block { dst[i] += src[i] }
                    }
                }
                start += block
            }
        }
        return y
    }

    /// Elements `range` along `axis`. Along the leading axis this is a view (rows are
    /// contiguous); otherwise a copy whose backward scatters the gradient back.
    public func slice(_ x: Tensor, axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis < 0 ? axis + x.rank : axis
        precondition(ax >= 0 && ax < x.rank, "slice axis \(axis) out of range for \(x.shape)")
        precondition(range.lowerBound >= 0 && range.upperBound <= x.shape[ax], "slice \(range) outside 0..<\(x.shape[ax]) on axis \(ax)")
        let outShape = x.shape.replacing(ax, with: range.count)
        let (outer, size, inner) = x.shape.outerInner(ax)
        if outer == 1 {
            return view(of: x, shape: outShape, elementOffset: range.lowerBound * inner)
        }
        let recorded = needsGrad(x)
        let y = output(outShape, requiresGrad: recorded)
        let block = range.count * inner, skip = range.lowerBound * inner
        for o in 0..<outer { (y.pointer + o * block).update(from: x.pointer + o * size * inner + skip, count: block) }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            for o in 0..<outer {
                let src = g + o * block, dst = dx + o * size * inner + skip
                for i in 0..<block { dst[i] += src[i] }
            }
        }
        return y
    }
}
