/// One post-norm transformer encoder layer, as BERT stacks them:
/// h = LayerNorm(x + Attention(x)), y = LayerNorm(h + W₂·GELU(W₁·h)).
/// No dropout: fine-tuning here runs without it, which keeps runs bit-reproducible
/// without a random stream per layer.
public final class TransformerEncoderLayer: Module {
    public let attention: MultiHeadAttention
    public let attentionNorm: LayerNorm
    public let intermediate: Linear, output: Linear
    public let outputNorm: LayerNorm

    public init(width: Int, heads: Int, feedForward: Int, epsilon: Float = 1e-12) {
        precondition(feedForward > 0, "feed-forward width must be positive, got \(feedForward)")
        attention = MultiHeadAttention(width: width, heads: heads)
        attentionNorm = LayerNorm(width, epsilon: epsilon)
        intermediate = Linear(width, feedForward, weightInit: .xavierUniform)
        output = Linear(feedForward, width, weightInit: .xavierUniform)
        outputNorm = LayerNorm(width, epsilon: epsilon)
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { forward(x, mask: nil, tape) }

    public func forward(_ x: Tensor, mask: Tensor?, _ tape: Tape) -> Tensor {
        let h = attentionNorm(tape.add(x, attention.forward(x, mask: mask, tape)), tape)
        return outputNorm(tape.add(h, output(tape.gelu(intermediate(h, tape)), tape)), tape)
    }

    public var members: [ModuleMember] {
        [.child("attention", attention), .child("attention_norm", attentionNorm), .child("intermediate", intermediate),
         .child("output", output), .child("output_norm", outputNorm)]
    }
}
