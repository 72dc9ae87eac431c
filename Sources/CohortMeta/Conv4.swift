import CohortTensor

/// The few-shot backbone: four stages of 3x3 convolution, batch norm, ReLU and 2x2 max
/// pooling, flattened to an embedding (28x28 inputs end at 1x1, so the embedding has
/// `filters` values), with an optional linear head for the gradient-based learners.
///
/// Batch norm always normalises with the statistics of the batch at hand (the task's
/// support or query set), in meta-training and at meta-test alike, as the MAML family
/// does; running statistics are kept but never read.
public final class Conv4: Module {
    public let backbone: Sequential
    public let head: Linear?
    public let embeddingWidth: Int

    public init(channels: Int, side: Int, filters: Int, ways: Int?) throws {
        guard channels > 0, filters > 0, filters <= 1024 else { throw MetaInputError("conv-4 needs 1...1024 filters, got \(filters)") }
        guard side >= 16 else { throw MetaInputError("conv-4 pools four times by 2: images must be at least 16x16, got \(side)x\(side)") }
        var layers: [Module] = []
        var cin = channels, s = side
        for _ in 0..<4 {
            layers += [Conv2d(cin, filters, kernel: 3, padding: 1, bias: false), BatchNorm(filters), Activation(.relu), MaxPool2d(kernel: 2)]
            cin = filters
            s /= 2
        }
        layers.append(Flatten())
        backbone = Sequential(layers)
        embeddingWidth = filters * s * s
        head = ways.map { Linear(filters * s * s, $0, weightInit: .xavierUniform) }
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let e = backbone.forward(x, tape)
        return head.map { $0.forward(e, tape) } ?? e
    }

    /// The embedding alone (no head).
    public func embed(_ x: Tensor, _ tape: Tape) -> Tensor { backbone.forward(x, tape) }

    public var members: [ModuleMember] {
        [.child("backbone", backbone)] + (head.map { [.child("head", $0)] } ?? [])
    }
}
