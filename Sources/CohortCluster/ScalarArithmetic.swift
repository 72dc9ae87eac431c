/// Element-wise arithmetic on type-erased buffers, shared by both backends so that a
/// `mean` or a reduction gives the same bits whichever backend runs it.
enum ScalarArithmetic {
    /// Divides `count` scalars in place by `divisor` (mean = sum / size).
    static func divide(_ buffer: UnsafeMutableRawPointer, count: Int, type: ScalarType, by divisor: Int) throws {
        switch type {
        case .float32:
            let p = buffer.assumingMemoryBound(to: Float.self)
            let d = Float(divisor)
            for i in 0..<count { p[i] /= d }
        case .float64:
            let p = buffer.assumingMemoryBound(to: Double.self)
            let d = Double(divisor)
            for i in 0..<count { p[i] /= d }
        default:
            throw CommunicatorError.unsupported("mean reduction of integer type \(type)")
        }
    }

    /// `accumulator[i] = op(accumulator[i], operand[i])` for `count` scalars.
    /// Integer sums wrap, as MPI's do.
    static func combine(_ accumulator: UnsafeMutableRawPointer, _ operand: UnsafeRawPointer,
                        count: Int, type: ScalarType, op: ReductionOp) {
        switch type {
        case .float32: combine(accumulator, operand, count, op, sum: { $0 + $1 }, as: Float.self)
        case .float64: combine(accumulator, operand, count, op, sum: { $0 + $1 }, as: Double.self)
        case .int32: combine(accumulator, operand, count, op, sum: { $0 &+ $1 }, as: Int32.self)
        case .int64: combine(accumulator, operand, count, op, sum: { $0 &+ $1 }, as: Int64.self)
        case .uint8: combine(accumulator, operand, count, op, sum: { $0 &+ $1 }, as: UInt8.self)
        }
    }

    @inline(__always)
    private static func combine<T: CommunicatorScalar>(_ accumulator: UnsafeMutableRawPointer, _ operand: UnsafeRawPointer,
                                                       _ count: Int, _ op: ReductionOp, sum: (T, T) -> T, as: T.Type) {
        let a = accumulator.assumingMemoryBound(to: T.self)
        let b = operand.assumingMemoryBound(to: T.self)
        switch op {
        case .sum, .mean: for i in 0..<count { a[i] = sum(a[i], b[i]) }
        case .min: for i in 0..<count where b[i] < a[i] { a[i] = b[i] }
        case .max: for i in 0..<count where b[i] > a[i] { a[i] = b[i] }
        }
    }
}
