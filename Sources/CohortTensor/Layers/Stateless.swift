// MARK: - Layers without parameters

/// An elementwise nonlinearity.
public final class Activation: Module {
    public enum Kind: String, Codable, Sendable, CaseIterable { case relu, tanh, sigmoid, gelu }
    public let kind: Kind
    public init(_ kind: Kind) { self.kind = kind }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        switch kind {
        case .relu: return tape.relu(x)
        case .tanh: return tape.tanh(x)
        case .sigmoid: return tape.sigmoid(x)
        case .gelu: return tape.gelu(x)
        }
    }
}

/// [N, ...] → [N, rest] (a view).
public final class Flatten: Module {
    public init() {}
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { tape.flatten(x) }
}

public final class MaxPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

public final class AvgPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.avgPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// [N, C, H, W] → [N, C].
public final class GlobalAvgPool: Module {
    public init() {}
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { tape.globalAvgPool(x) }
}

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
