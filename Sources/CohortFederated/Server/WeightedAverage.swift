/// Accumulates clients' models weighted by their sample counts in one flat buffer whose
/// last value is the total weight, so one sum-allreduce of the buffer combines every
/// rank's clients: `sum_k n_k w_k` and `sum_k n_k` travel together.
public struct WeightedAverage: Sendable {
    /// `parameterCount` weighted sums followed by the total weight.
    public var buffer: [Float]

    public init(parameterCount: Int) {
        buffer = [Float](repeating: 0, count: parameterCount + 1)
    }

    public var parameterCount: Int { buffer.count - 1 }

    /// The total weight accumulated (after the allreduce: over all ranks).
    public var totalWeight: Float { buffer[buffer.count - 1] }

    /// Clears the sums for a new round.
    public mutating func reset() {
        buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Adds `weight * model` to the sums.
    public mutating func add(_ model: UnsafeBufferPointer<Float>, weight: Float) {
        precondition(model.count == parameterCount, "model has \(model.count) values, the average \(parameterCount)")
        buffer.withUnsafeMutableBufferPointer { sums in
            for i in 0 ..< model.count { sums[i] += weight * model[i] }
            sums[model.count] += weight
        }
    }

    /// Writes `sums / totalWeight` into `average`; false (and nothing written) when the
    /// total weight is zero (every sampled client dropped out).
    @discardableResult
    public func average(into average: UnsafeMutableBufferPointer<Float>) -> Bool {
        precondition(average.count == parameterCount, "average has \(average.count) values, the sums \(parameterCount)")
        let total = totalWeight
        guard total > 0 else { return false }
        buffer.withUnsafeBufferPointer { sums in
            for i in 0 ..< average.count { average[i] = sums[i] / total }
        }
        return true
    }
}
