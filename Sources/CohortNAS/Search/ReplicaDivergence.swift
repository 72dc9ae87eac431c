import CohortCluster

/// Data-parallel ranks ended up holding different supernet or architecture weights.
/// Every rank compares every rank's digest (an allgather), so every rank raises this
/// same error at the same step and the run stops everywhere at once, reported once.
public struct ReplicaDivergenceError: UniformError {
    public let step: Int
    /// One digest per rank, in rank order.
    public let digests: [UInt64]

    public var description: String {
        let listed = digests.enumerated().map { "rank \($0.offset) \(String($0.element, radix: 16))" }.joined(separator: ", ")
        return "ranks diverged: after step \(step) their supernet and architecture weights differ (\(listed)); stopping the search"
    }
}

/// FNV-1a over the bit patterns of Float and Double buffers: equal digests mean
/// bit-identical values.
struct WeightDigest {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ values: UnsafeBufferPointer<Float>) {
        var h = value
        for v in values { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        value = h
    }

    mutating func add(_ values: [Double]) {
        var h = value
        for v in values { h = (h ^ v.bitPattern) &* 0x0000_0100_0000_01B3 }
        value = h
    }

    var hex: String { String(value, radix: 16) }
}
