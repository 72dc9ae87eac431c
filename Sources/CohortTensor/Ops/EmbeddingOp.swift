// MARK: - Embedding lookup

extension Tape {
    /// Rows of `table` [V, D] picked by `indices`; the output has shape
    /// `indexShape + [D]` (default [count, D]). Backward scatter-adds each output row's
    /// gradient into the table row it came from (repeated indices accumulate).
    public func embedding(_ indices: UnsafeBufferPointer<Int32>, indexShape: Shape? = nil, table: Tensor) -> Tensor {
        precondition(table.rank == 2, "embedding table must be [V, D], got \(table.shape)")
        let v = table.shape[0], d = table.shape[1], n = indices.count
        let ishape = indexShape ?? Shape(n)
        precondition(ishape.count == n && ishape.rank < Shape.maxRank, "embedding index shape \(ishape) does not match \(n) indices")
        let recorded = needsGrad(table)
        let y = output(Shape(ishape.dims + [d]), requiresGrad: recorded)
        let saved = scratchIndices(n)
        for i in 0..<n {
            let row = Int(indices[i])
            precondition(row >= 0 && row < v, "embedding index \(row) outside 0..<\(v)")
            saved[i] = indices[i]
            (y.pointer + i * d).update(from: table.pointer + row * d, count: d)
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dt = tape.grad(table)
            for i in 0..<n {
                let src = g + i * d, dst = dt + Int(saved[i]) * d
                for j in 0..<d { dst[j] += src[j] }
            }
        }
        return y
    }

    public func embedding(_ indices: [Int32], indexShape: Shape? = nil, table: Tensor) -> Tensor {
        indices.withUnsafeBufferPointer { embedding($0, indexShape: indexShape, table: table) }
    }
}
