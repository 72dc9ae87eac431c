/// Inverted dropout with its own random stream (seeded by the model, saved in checkpoints).
public final class Dropout: Module {
    public let probability: Float
    public let random = RandomSource()

    public init(_ probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.dropout(x, probability: probability, rng: &random.stream)
    }

    public var members: [ModuleMember] { [.random("rng", random)] }
}
