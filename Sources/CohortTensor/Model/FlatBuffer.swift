/// Named tensors laid end to end in one contiguous Float buffer.
///
/// A model's parameters form one, its gradients another with the same layout: one
/// collective over `flat` (allreduce of gradients, broadcast or averaging of weights)
/// acts on the whole model at once.
public final class FlatBuffer {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: Shape
        /// Element offset into `flat`.
        public let offset: Int
        public var count: Int { shape.count }
    }

    public let storage: TensorStorage
    public let entries: [Entry]
    private let index: [String: Int]

    init(entries: [Entry]) {
        self.entries = entries
        let total = entries.last.map { $0.offset + $0.count } ?? 0
        storage = TensorStorage(capacity: total)
        index = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Total number of floats.
    public var count: Int { storage.capacity }

    /// The whole buffer (valid while this object lives).
    public var flat: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: storage.base, count: count) }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The slice of `flat` holding `name`.
    public subscript(name: String) -> UnsafeMutableBufferPointer<Float>? {
        guard let e = entry(named: name) else { return nil }
        return UnsafeMutableBufferPointer(start: storage.base + e.offset, count: e.count)
    }

    /// A tensor viewing the entry called `name` (no gradient).
    public func tensor(named name: String) -> Tensor? {
        guard let e = entry(named: name) else { return nil }
        return Tensor(shape: e.shape, storage: storage, offset: e.offset)
    }

    public func toArray() -> [Float] { Array(flat) }

    /// Copies all values from a buffer with the same count.
    public func copy(from other: UnsafeBufferPointer<Float>) {
        precondition(other.count == count, "flat buffer copy: \(other.count) values into \(count)")
        if count > 0 { storage.base.update(from: other.baseAddress!, count: count) }
    }

    public func zero() { storage.base.update(repeating: 0, count: count) }
}
