import CohortTensor

/// ORCA's embedder for 1-D inputs: the signal [batch, length] cut into `tokens`
/// patches of `patch` points, each mapped to the body's width by one convolution with
/// stride equal to its kernel (computed as one linear map of the reshaped patches, the
/// same arithmetic), then LayerNorm and learned position embeddings, initialised from
/// the body's own position table so the body sees positions it knows.
public final class PatchEmbedder: Module {
    public let length: Int, patch: Int, width: Int
    public var tokens: Int { length / patch }
    public let projection: Linear
    public let norm: LayerNorm
    public let positions: Parameter

    /// `positions`: the body's first `length / patch` position embeddings (row-major), or
    /// nil for a random start.
    public init(length: Int, patch: Int, width: Int, positions: [Float]?) {
        precondition(patch > 0 && length % patch == 0, "patch \(patch) must divide the length \(length)")
        self.length = length; self.patch = patch; self.width = width
        projection = Linear(patch, width, weightInit: .kaimingUniform)
        norm = LayerNorm(width, epsilon: 1e-12)
        let t = length / patch
        if let positions { precondition(positions.count == t * width, "position table has \(positions.count) values, need \(t * width)") }
        self.positions = Parameter([t, width], initializer: positions.map { .values($0) } ?? .normal(std: 0.02))
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let batch = x.count / length
        let patches = tape.reshape(x, [batch, tokens, patch])
        return tape.add(norm(projection(patches, tape), tape), positions.tensor)
    }

    public var members: [ModuleMember] {
        [.child("projection", projection), .child("norm", norm), .parameter("positions", positions)]
    }
}
