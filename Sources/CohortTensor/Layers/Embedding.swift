/// Lookup table [vocabulary, dimension]. `forward` takes indices stored as floats
/// (exact for values below 2^24); `lookup` takes Int32 indices directly.
public final class Embedding: Module {
    public let table: Parameter
    public init(vocabulary: Int, dimension: Int) {
        precondition(vocabulary > 0 && dimension > 0, "Embedding needs positive sizes")
        table = Parameter([vocabulary, dimension], initializer: .normal(std: 1))
    }

    public func lookup(_ indices: [Int32], indexShape: Shape? = nil, _ tape: Tape) -> Tensor {
        tape.embedding(indices, indexShape: indexShape, table: table.tensor)
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let idx = tape.scratchIndices(x.count)
        for i in 0..<x.count { idx[i] = Int32(x.pointer[i]) }
        return tape.embedding(UnsafeBufferPointer(start: idx, count: x.count), indexShape: x.shape, table: table.tensor)
    }

    public var members: [ModuleMember] { [.parameter("weight", table)] }
}
