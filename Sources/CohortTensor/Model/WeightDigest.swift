/// FNV-1a over the bit patterns of Float and Double buffers: equal digests mean
/// bit-identical values (with overwhelming probability). The one digest that replica
/// checks, journals and reproducibility checks compare.
public struct WeightDigest: Equatable, Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ values: UnsafeBufferPointer<Float>) {
        var h = value
        for v in values { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        value = h
    }

    public mutating func add(_ values: [Float]) { values.withUnsafeBufferPointer { add($0) } }

    public mutating func add(_ values: [Double]) {
        var h = value
        for v in values { h = (h ^ v.bitPattern) &* 0x0000_0100_0000_01B3 }
        value = h
    }

    public var hex: String { String(value, radix: 16) }

    /// The digest of one buffer.
    public static func of(_ values: [Float]) -> UInt64 {
        var d = WeightDigest()
        d.add(values)
        return d.value
    }
}
