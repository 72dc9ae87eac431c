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
