/// NumPy-style broadcasting over at most four axes.
///
/// Both operands are seen as 4-D (shapes right-aligned against 1s); an operand's stride
/// is 0 along axes where it has extent 1 and the output does not. The walk visits the
/// output in row-major order as runs along the last axis, handing each run to a body
/// that loops over plain pointers, so the per-element work never goes through a closure.
struct Broadcast {
    let shape: Shape
    let out: (Int, Int, Int, Int)
    let aStride: (Int, Int, Int, Int)
    let bStride: (Int, Int, Int, Int)

    /// The broadcast of `a` and `b`, or nil if they are incompatible.
    static func resultShape(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.rank ? 1 : a[i - (rank - a.rank)]
            let db = i < rank - b.rank ? 1 : b[i - (rank - b.rank)]
            if da == db || db == 1 { dims[i] = da } else if da == 1 { dims[i] = db } else { return nil }
        }
        return Shape(dims)
    }

    init(_ a: Shape, _ b: Shape, op: String) {
        guard let s = Broadcast.resultShape(a, b) else {
            preconditionFailure("\(op): shapes \(a) and \(b) do not broadcast")
        }
        self.init(output: s, a: a, b: b)
    }

    /// Walk of `output` with `a` and `b` each broadcast to it.
    init(output s: Shape, a: Shape, b: Shape) {
        shape = s
        out = s.padded4
        aStride = Broadcast.strides(a.padded4, against: out)
        bStride = Broadcast.strides(b.padded4, against: out)
    }

    static func strides(_ d: (Int, Int, Int, Int), against o: (Int, Int, Int, Int)) -> (Int, Int, Int, Int) {
        let s3 = 1, s2 = d.3, s1 = d.3 * d.2, s0 = d.3 * d.2 * d.1
        return (d.0 == 1 && o.0 != 1 ? 0 : s0, d.1 == 1 && o.1 != 1 ? 0 : s1,
                d.2 == 1 && o.2 != 1 ? 0 : s2, d.3 == 1 && o.3 != 1 ? 0 : s3)
    }

    /// Calls `run(outOffset, aOffset, aStep, bOffset, bStep, length)` for each run along
    /// the last axis, in row-major output order.
    @inline(__always)
    func walk(_ run: (Int, Int, Int, Int, Int, Int) -> Void) {
        let n = out.3
        var o = 0
        for i0 in 0..<out.0 {
            for i1 in 0..<out.1 {
                for i2 in 0..<out.2 {
                    let ao = i0 * aStride.0 + i1 * aStride.1 + i2 * aStride.2
                    let bo = i0 * bStride.0 + i1 * bStride.1 + i2 * bStride.2
                    run(o, ao, aStride.3, bo, bStride.3, n)
                    o += n
                }
            }
        }
    }
}
