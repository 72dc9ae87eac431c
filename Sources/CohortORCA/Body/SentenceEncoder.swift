import CohortTensor

/// A BERT body with its tokenizer: sentences in, last hidden states and mean-pooled
/// sentence embeddings out (all-MiniLM-L6-v2's sentence embedding is the mean of the
/// last hidden states over the sentence's tokens; normalise it for cosine similarity).
public final class SentenceEncoder {
    public let tokenizer: WordPieceTokenizer
    public let body: BertEncoder
    public let model: Model

    /// `layers`: how many of the body's layers to build (0: the embedding layer alone).
    public init(checkpoint: BertCheckpoint, layers: Int? = nil) throws {
        tokenizer = checkpoint.tokenizer
        var config = checkpoint.config
        if let layers { config.layers = min(max(layers, 0), config.layers) }
        body = BertEncoder(config)
        model = Model(body, seed: 0)
        try checkpoint.load(into: body)
    }

    public init(tokenizer: WordPieceTokenizer, body: BertEncoder, model: Model) {
        self.tokenizer = tokenizer; self.body = body; self.model = model
    }

    /// One encoded batch: token ids per sentence and, per sentence, its tokens' last
    /// hidden states ([tokens × hidden], row-major).
    public struct Encoded {
        public var ids: [[Int32]]
        public var hidden: [[Float]]
        public var width: Int

        /// The mean of each sentence's hidden states.
        public var meanPooled: [[Float]] {
            zip(ids, hidden).map { ids, h in
                var m = [Float](repeating: 0, count: width)
                for t in 0..<ids.count { for j in 0..<width { m[j] += h[t * width + j] } }
                return m.map { $0 / Float(ids.count) }
            }
        }
    }

    /// Encodes the sentences as one padded batch; padding is masked out of attention,
    /// so each sentence's states equal those it gets alone.
    public func encode(_ sentences: [String], layers: Bool = true) throws -> Encoded {
        let ids = sentences.map(tokenizer.encode)
        let tokens = ids.map(\.count).max() ?? 0
        guard tokens > 0 else { return Encoded(ids: ids, hidden: [], width: body.config.hidden) }
        let padded = ids.flatMap { $0 + [Int32](repeating: tokenizer.padding, count: tokens - $0.count) }
        let valid = ids.flatMap { s in (0..<tokens).map { $0 < s.count } }
        let tape = Tape(mode: .evaluation)
        let embedded = try body.embed(padded, batch: ids.count, tokens: tokens, tape)
        let out = layers ? body.encode(embedded, mask: MultiHeadAttention.keyMask(valid, batch: ids.count, tokens: tokens, tape), tape) : embedded
        let width = body.config.hidden, all = out.toArray()
        let hidden = ids.enumerated().map { i, s in Array(all[(i * tokens * width)..<((i * tokens + s.count) * width)]) }
        return Encoded(ids: ids, hidden: hidden, width: width)
    }
}
