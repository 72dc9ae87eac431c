import CohortTensor

/// ORCA's embedder for tabular inputs: one token per feature, token f = x_f · w_f + b_f
/// with its own w_f, b_f of the body's width (a feature-wise linear embedding), then
/// LayerNorm and position embeddings initialised from the body's, as ``PatchEmbedder``.
public final class FeatureTokenEmbedder: Module {
    public let features: Int, width: Int
    public var tokens: Int { features }
    public let weight: Parameter, bias: Parameter
    public let norm: LayerNorm
    public let positions: Parameter

    public init(features: Int, width: Int, positions: [Float]?) {
        precondition(features > 0 && width > 0, "a feature embedder needs features and width")
        self.features = features; self.width = width
        weight = Parameter([features, width], initializer: .normal(std: 1))
        bias = Parameter([features, width], initializer: .normal(std: 1))
        norm = LayerNorm(width, epsilon: 1e-12)
        if let positions { precondition(positions.count == features * width, "position table has \(positions.count) values, need \(features * width)") }
        self.positions = Parameter([features, width], initializer: positions.map { .values($0) } ?? .normal(std: 0.02))
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let batch = x.count / features
        let scaled = tape.mul(tape.reshape(x, [batch, features, 1]), weight.tensor)
        return tape.add(norm(tape.add(scaled, bias.tensor), tape), positions.tensor)
    }

    public var members: [ModuleMember] {
        [.parameter("weight", weight), .parameter("bias", bias), .child("norm", norm), .parameter("positions", positions)]
    }
}
