import Foundation

/// Multi-head self-attention over [batch, tokens, width] with an optional key mask.
///
/// Queries, keys and values are three linear maps of the input, split into `heads`
/// slices of width / heads; each head mixes the values by softmax(Q·Kᵀ / √d) over the
/// keys; the heads are joined and mapped by `output`. The mask is additive, shaped
/// [batch, 1, 1, tokens]: 0 where a key may be attended to, a large negative number where
/// it is padding (see ``keyMask(_:batch:tokens:_:)``), so padded keys get no weight.
public final class MultiHeadAttention: Module {
    public let width: Int, heads: Int
    public let query: Linear, key: Linear, value: Linear, output: Linear

    public init(width: Int, heads: Int) {
        precondition(width > 0 && heads > 0 && width % heads == 0, "attention width \(width) must split into \(heads) heads")
        self.width = width
        self.heads = heads
        let initial = WeightInit.xavierUniform
        query = Linear(width, width, weightInit: initial)
        key = Linear(width, width, weightInit: initial)
        value = Linear(width, width, weightInit: initial)
        output = Linear(width, width, weightInit: initial)
    }

    /// The additive mask for `valid` flags ([batch × tokens], true for a real token).
    public static func keyMask(_ valid: [Bool], batch: Int, tokens: Int, _ tape: Tape) -> Tensor {
        precondition(valid.count == batch * tokens, "mask has \(valid.count) flags for \(batch) x \(tokens) tokens")
        return tape.tensor(valid.map { $0 ? 0 : -10_000 }, shape: [batch, 1, 1, tokens])
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { forward(x, mask: nil, tape) }

    public func forward(_ x: Tensor, mask: Tensor?, _ tape: Tape) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == width, "attention expects [batch, tokens, \(width)], got \(x.shape)")
        let batch = x.shape[0], tokens = x.shape[1], headWidth = width / heads
        // [batch, tokens, width] -> [batch, heads, tokens, head width]
        func split(_ t: Tensor) -> Tensor { tape.permute(tape.reshape(t, [batch, tokens, heads, headWidth]), [0, 2, 1, 3]) }
        let q = split(query(x, tape)), k = split(key(x, tape)), v = split(value(x, tape))
        var scores = tape.mul(tape.batchedMatmul(q, k, transposeB: true), 1 / Float(headWidth).squareRoot())
        if let mask { scores = tape.add(scores, mask) }
        let mixed = tape.batchedMatmul(tape.softmax(scores), v)
        let joined = tape.reshape(tape.permute(mixed, [0, 2, 1, 3]), [batch, tokens, width])
        return output(joined, tape)
    }

    public var members: [ModuleMember] {
        [.child("query", query), .child("key", key), .child("value", value), .child("output", output)]
    }
}
