import CohortTensor
import Foundation
import XCTest
@testable import CohortORCA

/// A tiny random BERT written in the Hugging Face layout, read back, and checked: names,
/// masking, and every refusal the loader promises.
final class BertEncoderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("orca-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Writes config.json, vocab.txt and model.safetensors of a random tiny BERT; returns
    /// the encoder whose weights were written.
    @discardableResult
    func writeTinyBert(modelType: String = "bert", vocabulary: [String] = WordPieceTokenizerTests.vocabulary, skip: String? = nil) throws -> BertEncoder {
        let config = BertConfig.tiny(vocabulary: WordPieceTokenizerTests.vocabulary.count)
        let json: [String: Any] = ["model_type": modelType, "vocab_size": config.vocabularySize, "hidden_size": config.hidden,
                                   "num_hidden_layers": config.layers, "num_attention_heads": config.heads,
                                   "intermediate_size": config.intermediate, "max_position_embeddings": config.maxPositions,
                                   "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"]
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("config.json"))
        try (vocabulary.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let body = BertEncoder(config)
        _ = Model(body, seed: 42)
        let entries = body.namedParameters().compactMap { name, p -> (String, SafeTensors.Entry)? in
            let key = BertCheckpoint.checkpointName(name)
            return key == skip ? nil : (key, SafeTensors.Entry(floats: UnsafeBufferPointer(p.tensor.buffer), shape: p.shape.dims))
        }
        try SafeTensors(entries: entries, metadata: ["format": "pt"]).write(to: directory.appendingPathComponent("model.safetensors"))
        return body
    }

    func testCheckpointNamesFollowTheHuggingFaceLayout() {
        let body = BertEncoder(.tiny(vocabulary: 16))
        let names = body.namedParameters().map { BertCheckpoint.checkpointName($0.name) }
        XCTAssertEqual(Set(names).count, names.count)
        for expected in ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias", "encoder.layer.0.attention.self.query.weight",
                         "encoder.layer.1.attention.output.dense.bias", "encoder.layer.1.attention.output.LayerNorm.weight",
                         "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.bias", "encoder.layer.1.output.LayerNorm.bias"] {
            XCTAssertTrue(names.contains(expected), expected)
        }
        XCTAssertEqual(names.count, 5 + 2 * 16)
    }

    func testLoadsWeightsAndPaddingDoesNotChangeASentence() throws {
        let written = try writeTinyBert()
        let checkpoint = try BertCheckpoint(directory: directory.path)
        let encoder = try SentenceEncoder(checkpoint: checkpoint)
        for ((_, a), (_, b)) in zip(written.namedParameters(), encoder.body.namedParameters()) {
            XCTAssertEqual(a.tensor.toArray(), b.tensor.toArray())
        }
        let both = try encoder.encode(["hello world", "unaffable, hello world!"])
        let alone = try encoder.encode(["hello world"])
        XCTAssertEqual(both.ids[0], [2, 4, 6, 3])
        for (x, y) in zip(both.hidden[0], alone.hidden[0]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        XCTAssertEqual(both.meanPooled[0].count, 8)
    }

    func testRefusals() throws {
        try writeTinyBert(modelType: "gpt2")
        XCTAssertThrowsError(try BertCheckpoint(directory: directory.path)) { XCTAssertTrue("\($0)".hasSuffix("config.json: not a BERT checkpoint (model_type gpt2)"), "\($0)") }
        try writeTinyBert(vocabulary: WordPieceTokenizerTests.vocabulary + ["extra"])
        XCTAssertThrowsError(try BertCheckpoint(directory: directory.path)) { XCTAssertTrue("\($0)".hasSuffix("vocab.txt has 17 tokens but the model's vocab_size is 16"), "\($0)") }
        try writeTinyBert(skip: "encoder.layer.1.output.dense.weight")
        let checkpoint = try BertCheckpoint(directory: directory.path)
        XCTAssertThrowsError(try SentenceEncoder(checkpoint: checkpoint)) { XCTAssertTrue("\($0)".hasSuffix("not a BERT checkpoint (no tensor encoder.layer.1.output.dense.weight)"), "\($0)") }
        XCTAssertThrowsError(try BertCheckpoint(directory: directory.appendingPathComponent("nowhere").path)) { XCTAssertTrue("\($0)".contains("no model directory"), "\($0)") }
        try writeTinyBert()
        let encoder = try SentenceEncoder(checkpoint: try BertCheckpoint(directory: directory.path))
        XCTAssertThrowsError(try encoder.encode([String(repeating: "hello ", count: 20)])) {
            XCTAssertEqual("\($0)", "a sequence of 22 tokens is longer than the position table (16)")
        }
    }
}
