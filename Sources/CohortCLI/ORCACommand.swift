import ArgumentParser
import CohortCluster
import CohortFiles
import CohortORCA
import CohortTensor
import Foundation

/// `cohort orca`: cross-modal fine-tuning of a pretrained BERT body (`run`, the default),
/// and the body's forward pass on sentences (`encode`, for checks against a reference).
struct ORCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orca",
        abstract: "Cross-modal fine-tuning: align an embedder to a pretrained BERT's text features, then fine-tune (ORCA).",
        subcommands: [ORCARunCommand.self, ORCAEncodeCommand.self],
        defaultSubcommand: ORCARunCommand.self
    )
}

/// `cohort orca encode`: token ids, last hidden states and mean-pooled embeddings of
/// sentences as JSON.
struct ORCAEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the BERT body's token ids, last hidden states and mean-pooled embeddings of sentences as JSON."
    )

    @Option(name: .long, help: "The model directory (config.json, vocab.txt, model.safetensors); default all-MiniLM-L6-v2 from scripts/setup.sh.")
    var model: String?

    @Argument(help: "Sentences to encode (one padded batch).")
    var sentences: [String]

    func run() throws {
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { BLASRuntime.setThreads(1) }
        guard !sentences.isEmpty else { throw ValidationError("give at least one sentence") }
        let encoder = try SentenceEncoder(checkpoint: try BertCheckpoint(directory: model ?? BertCheckpoint.defaultDirectory))
        let encoded = try encoder.encode(sentences)
        let rows: [JSONValue] = zip(encoded.ids, zip(encoded.hidden, encoded.meanPooled)).map { ids, rest in
            .object([("ids", .array(ids.map { .int(Int($0)) })), ("hidden", .array(rest.0.map { .number(Double($0)) })),
                     ("mean", .array(rest.1.map { .number(Double($0)) }))])
        }
        print(JSONValue.object([("width", .int(encoded.width)), ("sentences", .array(rows))]).description)
    }
}
