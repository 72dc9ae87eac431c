// MARK: - Gather along an axis (padding, permutation, cropping, striding)

/// An index table for `Tape.gather`: output position `m` along the axis reads input
/// position `source[m]`, or is zero where `source[m]` is `-1`.
///
/// One table expresses zero padding, circular padding, a permutation (bit reversal),
/// a crop and a stride, so all of them share one forward and one backward rule.
public struct GatherIndex: Sendable, Equatable {
    public let source: [Int32]
    /// Length of the axis the table reads from.
    public let inputLength: Int

    public init(source: [Int], inputLength: Int) {
        precondition(inputLength > 0 && source.allSatisfy { $0 >= -1 && $0 < inputLength },
                     "gather index reads outside 0..<\(inputLength)")
        self.source = source.map(Int32.init)
        self.inputLength = inputLength
    }

    public var outputLength: Int { source.count }

    /// Padding modes: zeros outside the input, or the input repeated periodically.
    public enum PaddingMode: String, Sendable, CaseIterable { case zero, circular }

    /// `before` positions, the input, `after` positions.
    public static func padding(length n: Int, before: Int, after: Int, mode: PaddingMode) -> GatherIndex {
        precondition(before >= 0 && after >= 0, "padding must be non-negative")
        let source = (0..<(before + n + after)).map { m -> Int in
            let i = m - before
            switch mode {
            case .zero: return (0..<n).contains(i) ? i : -1
            case .circular: return ((i % n) + n) % n
            }
        }
        return GatherIndex(source: source, inputLength: n)
    }

    /// `count` positions from `start`, `step` apart (a crop, then a stride).
    public static func slice(length n: Int, start: Int, count: Int, step: Int = 1) -> GatherIndex {
        precondition(step > 0 && count >= 0 && start >= 0 && (count == 0 || start + (count - 1) * step < n),
                     "slice \(start) + \(count) x \(step) does not fit \(n)")
        return GatherIndex(source: (0..<count).map { start + $0 * step }, inputLength: n)
    }

    /// The bit-reversal permutation of a power-of-two length.
    public static func bitReversal(length n: Int) -> GatherIndex {
        GatherIndex(source: bitReversedOrder(n), inputLength: n)
    }
}

/// `[rev(0), rev(1), ...]` for the bits of a power of two `n` (the FFT's input order).
public func bitReversedOrder(_ n: Int) -> [Int] {
    precondition(n > 0 && n & (n - 1) == 0, "bit reversal needs a power of two, got \(n)")
    let bits = n.trailingZeroBitCount
    return (0..<n).map { i in
        var r = 0, v = i
        for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
        return r
    }
}

/// A tensor seen as [outer, n, inner] around one axis.
struct AxisLayout {
    let outer: Int, length: Int, inner: Int

    init(_ shape: Shape, axis: Int) {
        let ax = axis < 0 ? axis + shape.rank : axis
        precondition(ax >= 0 && ax < shape.rank, "axis \(axis) out of range for shape \(shape)")
        var outer = 1, inner = 1
        for i in 0..<ax { outer *= shape[i] }
        for i in (ax + 1)..<shape.rank { inner *= shape[i] }
        self.outer = outer
        self.length = shape[ax]
        self.inner = inner
    }

    static func normalized(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }
}

extension Tape {
    /// `y[..., m, ...] = x[..., index.source[m], ...]` along `axis` (zero where the
    /// source is -1). Backward adds each output gradient back onto the position it read.
    public func gather(_ x: Tensor, axis: Int, _ index: GatherIndex) -> Tensor {
        let ax = AxisLayout.normalized(axis, rank: x.rank)
        let layout = AxisLayout(x.shape, axis: ax)
        precondition(layout.length == index.inputLength,
                     "gather: axis \(axis) of \(x.shape) has length \(layout.length), the index reads \(index.inputLength)")
        let m = index.outputLength
        let recorded = needsGrad(x)
        let y = output(x.shape.replacing(ax, with: m), requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer
        let inner = layout.inner, n = layout.length
        index.source.withUnsafeBufferPointer { src in
            for o in 0..<layout.outer {
                for j in 0..<m {
                    let dst = yp + (o * m + j) * inner
                    let s = Int(src[j])
                    if s < 0 { dst.update(repeating: 0, count: inner) } else { dst.update(from: xp + (o * n + s) * inner, count: inner) }
                }
            }
        }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            index.source.withUnsafeBufferPointer { src in
                for o in 0..<layout.outer {
                    for j in 0..<m {
                        let s = Int(src[j])
                        guard s >= 0 else { continue }
                        VectorKernels.addInPlace(dx + (o * n + s) * inner, g + (o * m + j) * inner, inner)
                    }
                }
            }
        }
        return y
    }

    /// `x` padded along `axis` by `before` and `after` positions, with zeros or
    /// periodically.
    public func pad(_ x: Tensor, axis: Int, before: Int, after: Int, mode: GatherIndex.PaddingMode = .zero) -> Tensor {
        let ax = AxisLayout.normalized(axis, rank: x.rank)
        return gather(x, axis: ax, .padding(length: x.shape[ax], before: before, after: after, mode: mode))
    }
}
