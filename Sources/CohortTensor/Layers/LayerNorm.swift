/// Layer normalisation over the last axis with a learned scale and shift (`weight`,
/// `bias`, as BERT names them).
public final class LayerNorm: Module {
    public let width: Int
    public let epsilon: Float
    public let weight: Parameter
    public let bias: Parameter

    public init(_ width: Int, epsilon: Float = 1e-5) {
        precondition(width > 0, "LayerNorm needs a positive width, got \(width)")
        self.width = width
        self.epsilon = epsilon
        weight = Parameter([width], initializer: .ones)
        bias = Parameter([width], initializer: .zeros)
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.layerNorm(x, gamma: weight.tensor, beta: bias.tensor, epsilon: epsilon)
    }

    public var members: [ModuleMember] { [.parameter("weight", weight), .parameter("bias", bias)] }
}
