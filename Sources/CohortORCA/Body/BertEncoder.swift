import CohortTensor

/// A BERT encoder: token, position and type embeddings summed and layer-normalised,
/// then post-norm transformer layers (no pooler: ORCA and sentence embeddings pool
/// the last hidden states themselves).
///
/// `embed` maps token ids to the first hidden states; `encode` runs the layers over any
/// [batch, tokens, hidden] input, which is where ORCA's embedder plugs in instead of the
/// token embeddings. Parameter names follow the Hugging Face checkpoint's through
/// ``BertCheckpoint/checkpointName(_:)``.
public final class BertEncoder: Module {
    public let config: BertConfig
    public let wordEmbeddings: Parameter, positionEmbeddings: Parameter, typeEmbeddings: Parameter
    public let embeddingNorm: LayerNorm
    public let layers: [TransformerEncoderLayer]
    /// False for a body whose inputs come from another embedder (ORCA): the token,
    /// position and type tables are then not members, so they are neither trained,
    /// nor allreduced, nor checkpointed.
    public let includesEmbeddings: Bool

    public init(_ config: BertConfig, includesEmbeddings: Bool = true) {
        self.config = config
        self.includesEmbeddings = includesEmbeddings
        let h = config.hidden
        wordEmbeddings = Parameter([config.vocabularySize, h], initializer: .normal(std: 0.02))
        positionEmbeddings = Parameter([config.maxPositions, h], initializer: .normal(std: 0.02))
        typeEmbeddings = Parameter([config.typeVocabularySize, h], initializer: .normal(std: 0.02))
        embeddingNorm = LayerNorm(h, epsilon: config.layerNormEpsilon)
        layers = (0..<config.layers).map { _ in
            TransformerEncoderLayer(width: h, heads: config.heads, feedForward: config.intermediate, epsilon: config.layerNormEpsilon)
        }
    }

    /// The embedding layer's output for `ids` ([batch × tokens], type 0 everywhere).
    public func embed(_ ids: [Int32], batch: Int, tokens: Int, _ tape: Tape) throws -> Tensor {
        precondition(includesEmbeddings, "this body was built without its embedding tables")
        guard tokens <= config.maxPositions else {
            throw ORCAInputError("a sequence of \(tokens) tokens is longer than the position table (\(config.maxPositions))")
        }
        guard ids.count == batch * tokens, ids.allSatisfy({ $0 >= 0 && Int($0) < config.vocabularySize }) else {
            throw ORCAInputError("token ids must be \(batch) x \(tokens) values in 0..<\(config.vocabularySize)")
        }
        let words = tape.embedding(ids, indexShape: [batch, tokens], table: wordEmbeddings.tensor)
        let positions = tape.slice(positionEmbeddings.tensor, axis: 0, 0..<tokens)
        let types = tape.slice(typeEmbeddings.tensor, axis: 0, 0..<1)
        return embeddingNorm(tape.add(tape.add(words, positions), types), tape)
    }

    /// The last hidden states of the layers over `hidden` ([batch, tokens, width]); `mask`
    /// as ``MultiHeadAttention/keyMask(_:batch:tokens:_:)`` makes it.
    public func encode(_ hidden: Tensor, mask: Tensor? = nil, _ tape: Tape) -> Tensor {
        var h = hidden
        for layer in layers { h = layer.forward(h, mask: mask, tape) }
        return h
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { encode(x, tape) }

    public var members: [ModuleMember] {
        (includesEmbeddings ? [.parameter("word_embeddings", wordEmbeddings), .parameter("position_embeddings", positionEmbeddings),
                                .parameter("token_type_embeddings", typeEmbeddings), .child("embedding_norm", embeddingNorm)] : [])
            + layers.enumerated().map { .child("layer\($0.offset)", $0.element) }
    }
}
