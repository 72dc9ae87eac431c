/// [B, T, H] → [B, H]: the last step of a sequence (a next-character classifier reads
/// the recurrent state after the whole input).
public final class LastStep: Module {
    public init() {}

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        precondition(x.rank == 3, "LastStep expects [batch, steps, features], got \(x.shape)")
        let steps = x.shape[1]
        return tape.reshape(tape.slice(x, axis: 1, steps - 1 ..< steps), [x.shape[0], x.shape[2]])
    }
}
