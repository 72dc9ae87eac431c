import Foundation

/// The shape of a BERT encoder, as Hugging Face's `config.json` states it.
public struct BertConfig: Sendable, Equatable {
    public var vocabularySize = 30522
    public var hidden = 384
    public var layers = 6
    public var heads = 12
    public var intermediate = 1536
    public var maxPositions = 512
    public var typeVocabularySize = 2
    public var layerNormEpsilon: Float = 1e-12

    public init() {}

    /// A small random body for unit tests: same structure, tiny sizes.
    public static func tiny(vocabulary: Int) -> BertConfig {
        var c = BertConfig()
        c.vocabularySize = vocabulary
        c.hidden = 8; c.layers = 2; c.heads = 2; c.intermediate = 12; c.maxPositions = 16
        return c
    }

    /// Reads `config.json`; refuses anything that is not a BERT with absolute positions
    /// and exact GELU.
    public static func read(path: String) throws -> BertConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ORCAInputError("\(path): cannot read the model config") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ORCAInputError("\(path): the model config is not a JSON object")
        }
        let modelType = json["model_type"] as? String ?? "(none)"
        guard modelType == "bert" else { throw ORCAInputError("\(path): not a BERT checkpoint (model_type \(modelType))") }
        if let act = json["hidden_act"] as? String, act != "gelu" {
            throw ORCAInputError("\(path): hidden_act \(act) is not supported (only gelu, the exact one)")
        }
        if let pos = json["position_embedding_type"] as? String, pos != "absolute" {
            throw ORCAInputError("\(path): position_embedding_type \(pos) is not supported (only absolute)")
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let n = json[key] as? NSNumber, let v = Int(exactly: n.doubleValue), range.contains(v) else {
                throw ORCAInputError("\(path): \(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(json[key] ?? "nothing")")
            }
            return v
        }
        var c = BertConfig()
        c.vocabularySize = try int("vocab_size", 5...1_000_000)
        c.hidden = try int("hidden_size", 1...8192)
        c.layers = try int("num_hidden_layers", 1...128)
        c.heads = try int("num_attention_heads", 1...256)
        c.intermediate = try int("intermediate_size", 1...65536)
        c.maxPositions = try int("max_position_embeddings", 1...65536)
        c.typeVocabularySize = try int("type_vocab_size", 1...16)
        if let eps = json["layer_norm_eps"] as? NSNumber {
            guard eps.doubleValue > 0, eps.doubleValue < 1 else { throw ORCAInputError("\(path): layer_norm_eps must lie in (0, 1), got \(eps)") }
            c.layerNormEpsilon = eps.floatValue
        }
        guard c.hidden % c.heads == 0 else {
            throw ORCAInputError("\(path): hidden_size \(c.hidden) does not split into \(c.heads) attention heads")
        }
        return c
    }
}
