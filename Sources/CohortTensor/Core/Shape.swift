/// The extent of a tensor along each of up to four axes, row-major.
///
/// Stored inline (no array) so that building the shape of an op's output allocates
/// nothing: ops run thousands of times per second and shapes are on every path.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// Largest supported rank.
    public static let maxRank = 4

    public let rank: Int
    @usableFromInline var d0 = 1, d1 = 1, d2 = 1, d3 = 1

    public init(_ dims: [Int]) {
        precondition(dims.count <= Shape.maxRank, "tensors have at most \(Shape.maxRank) axes, got \(dims.count)")
        precondition(dims.allSatisfy { $0 >= 0 }, "tensor dimensions must be non-negative, got \(dims)")
        rank = dims.count
        if rank > 0 { d0 = dims[0] }
        if rank > 1 { d1 = dims[1] }
        if rank > 2 { d2 = dims[2] }
        if rank > 3 { d3 = dims[3] }
    }

    public init(_ dims: Int...) { self.init(dims) }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Dimension `i`; negative `i` counts from the end.
    @inlinable
    public subscript(_ i: Int) -> Int {
        let axis = i < 0 ? i + rank : i
        precondition(axis >= 0 && axis < rank, "axis \(i) out of range for rank \(rank)")
        switch axis {
        case 0: return d0
        case 1: return d1
        case 2: return d2
        default: return d3
        }
    }

    /// Number of elements (1 for a scalar).
    @inlinable
    public var count: Int {
        switch rank {
        case 0: return 1
        case 1: return d0
        case 2: return d0 * d1
        case 3: return d0 * d1 * d2
        default: return d0 * d1 * d2 * d3
        }
    }

    public var dims: [Int] { (0..<rank).map { self[$0] } }

    /// This shape with dimension `axis` replaced.
    public func replacing(_ axis: Int, with value: Int) -> Shape {
        var ds = dims
        ds[axis < 0 ? axis + rank : axis] = value
        return Shape(ds)
    }

    /// The four dimensions right-aligned against 1s, as broadcasting sees them.
    @inlinable
    var padded4: (Int, Int, Int, Int) {
        switch rank {
        case 0: return (1, 1, 1, 1)
        case 1: return (1, 1, 1, d0)
        case 2: return (1, 1, d0, d1)
        case 3: return (1, d0, d1, d2)
        default: return (d0, d1, d2, d3)
        }
    }

    /// Product of dimensions before `axis` and after it (row-major outer/inner extents).
    func outerInner(_ axis: Int) -> (outer: Int, size: Int, inner: Int) {
        var outer = 1, inner = 1
        for i in 0..<axis { outer *= self[i] }
        for i in (axis + 1)..<max(rank, axis + 1) where i < rank { inner *= self[i] }
        return (outer, self[axis], inner)
    }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
