/// A Float32 row-major tensor of up to four axes: a shape over a contiguous range of a
/// `TensorStorage`, which may be a view into a larger buffer (a model's flat parameter
/// buffer, a tape's arena).
///
/// Tensors made by a `Tape` live in its arena and stay valid until that tape's next
/// `reset()`; copy out (`toArray()`, `item`) what must outlive the step.
public final class Tensor {
    public let shape: Shape
    public let storage: TensorStorage
    public let offset: Int
    /// Whether gradients flow back to this tensor.
    public internal(set) var requiresGrad: Bool

    // MARK: Gradient bookkeeping (used by `Tape`)

    /// Where this tensor's gradient lives, once it has one.
    var gradStorage: TensorStorage?
    var gradOffset = 0
    /// The backward pass in which the gradient buffer was zeroed; `Tensor.fixedGradient`
    /// for parameters, whose gradients live permanently in a model's gradient buffer.
    var gradPass = -1
    /// For views (reshape, leading-axis slice): the tensor whose storage and gradient
    /// this one shares, and the element offset into it.
    var viewBase: Tensor?
    var viewOffset = 0

    static let fixedGradient = Int.max

    // MARK: Making tensors

    /// A tensor over `storage[offset ..< offset + shape.count]`.
    public init(shape: Shape, storage: TensorStorage, offset: Int = 0, requiresGrad: Bool = false) {
        precondition(offset >= 0 && offset + shape.count <= storage.capacity,
                     "tensor of shape \(shape) at offset \(offset) exceeds storage of \(storage.capacity) floats")
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A tensor with its own zero-filled storage.
    public convenience init(zeros shape: Shape) {
        self.init(shape: shape, storage: TensorStorage(capacity: shape.count))
    }

    /// A tensor with its own storage holding `values` (row-major).
    public convenience init(_ values: [Float], shape: Shape) {
        precondition(values.count == shape.count, "\(values.count) values do not fill shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A parameter-like tensor whose gradient lives at a fixed place (a model's flat
    /// gradient buffer).
    init(shape: Shape, storage: TensorStorage, offset: Int, gradientStorage: TensorStorage, gradientOffset: Int) {
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.requiresGrad = true
        self.gradStorage = gradientStorage
        self.gradOffset = gradientOffset
        self.gradPass = Tensor.fixedGradient
    }

    // MARK: Reading and writing

    @inlinable public var count: Int { shape.count }
    @inlinable public var rank: Int { shape.rank }

    /// First element.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The elements as a buffer (valid while the tensor and its storage live).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy of the elements.
    public func toArray() -> [Float] { Array(buffer) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return pointer.pointee
    }

    /// Element at a multi-index (tests and debugging; not for hot loops).
    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "index \(index) has the wrong rank for shape \(shape)")
        var flat = 0
        for (axis, i) in index.enumerated() { flat = flat * shape[axis] + i }
        return pointer[flat]
    }

    /// Overwrites the elements from `values`.
    public func copy(from values: [Float]) {
        precondition(values.count == count, "\(values.count) values do not fill shape \(shape)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// The gradient accumulated by the latest backward pass (or, for parameters, since
    /// the last zeroing), or nil if none reached this tensor.
    public var gradient: [Float]? {
        let root = viewBase ?? self
        guard let g = root.gradStorage, root.gradPass >= 0 else { return nil }
        return Array(UnsafeBufferPointer(start: g.base + root.gradOffset + viewOffset, count: count))
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = toArray().prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor\(shape)[\(shown)\(count > 8 ? ", ..." : "")]"
    }
}

import Foundation
