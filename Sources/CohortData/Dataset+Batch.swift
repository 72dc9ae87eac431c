extension Dataset {
    // MARK: Filling preallocated batch buffers

    /// Copies the samples at `sampleIndices` into the caller's buffers, first sample first,
    /// and returns how many samples were written.
    ///
    /// Nothing is allocated: a training loop creates its input and label buffers once (sized
    /// for a full batch) and refills them every step. `features` needs room for
    /// `sampleIndices.count * featureCount` values and `labels` for `sampleIndices.count`
    /// labels; a short last batch fills only the front of each buffer. Passing buffers that
    /// are too small, or an index outside `0 ..< count`, is a programming error and traps.
    @discardableResult
    @inlinable
    public func fillBatch<Indices: Collection>(
        _ sampleIndices: Indices,
        features target: UnsafeMutableBufferPointer<Float>,
        labels labelTarget: UnsafeMutableBufferPointer<Int32>
    ) -> Int where Indices.Element == Int {
        let width = featureCount
        let batch = sampleIndices.count
        precondition(target.count >= batch * width,
                     "feature buffer holds \(target.count) values, batch needs \(batch * width)")
        precondition(labelTarget.count >= batch,
                     "label buffer holds \(labelTarget.count) labels, batch needs \(batch)")
        guard batch > 0, let targetBase = target.baseAddress, let labelBase = labelTarget.baseAddress else {
            return batch
        }
        let sampleCount = count
        features.withUnsafeBufferPointer { source in
            labels.withUnsafeBufferPointer { sourceLabels in
                guard let sourceBase = source.baseAddress else { return }
                var row = 0
                for index in sampleIndices {
                    precondition(index >= 0 && index < sampleCount,
                                 "sample index \(index) outside 0..<\(sampleCount)")
                    (targetBase + row * width).update(from: sourceBase + index * width, count: width)
                    labelBase[row] = sourceLabels[index]
                    row += 1
                }
            }
        }
        return batch
    }
}
