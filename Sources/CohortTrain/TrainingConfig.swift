import CohortFiles
import Foundation

/// Everything that defines one training run: model, data, optimizer, schedule, seed.
///
/// Read from a YAML or JSON file (`TrainingConfig.load(path:)`) in the dialect every
/// command shares, then adjusted by command-line flags of the same names. Every
/// problem (unknown key, wrong type, out of range) is reported at once with its place.
///
/// ```yaml
/// dataset: fashion-mnist
/// model: { type: cnn, filters: [16, 32], dense: 128 }
/// optimizer: { type: sgd, learning_rate: 0.05, momentum: 0.9, schedule: cosine }
/// epochs: 3
/// batch_size: 64
/// seed: 1
/// ```
public struct TrainingConfig: Equatable, Sendable {
    public var dataset = "digits"
    /// Directory of the IDX files (or base of a relative CSV path).
    public var dataDirectory: String?
    public var model = ModelSpec()
    public var optimizer = OptimizerSpec()
    public var epochs = 10
    public var batchSize = 64
    public var seed: UInt64 = 1
    /// OpenBLAS threads per rank.
    public var threads = 1

    public init() {}

    /// Upper bounds that keep every product and allocation derived from the config
    /// far from overflow.
    public static let maximumEpochs = 1_000_000
    public static let maximumBatch = 1 << 24

    /// Checks ranges (after flags changed the values read); throws every problem.
    public func validate() throws {
        let issues = ConfigIssues()
        if !(1 ... Self.maximumEpochs).contains(epochs) { issues.add("epochs", "must be between 1 and \(Self.maximumEpochs), got \(epochs)") }
        if !(1 ... Self.maximumBatch).contains(batchSize) { issues.add("batch_size", "must be between 1 and \(Self.maximumBatch), got \(batchSize)") }
        if !(1 ... 1024).contains(threads) { issues.add("threads", "must be between 1 and 1024, got \(threads)") }
        model.validate(issues)
        optimizer.validate(issues)
        try issues.throwIfAny()
    }

    // MARK: Reading files

    /// Reads a YAML (or JSON) config file.
    public static func load(path: String) throws -> TrainingConfig {
        try read(ConfigDocument.load(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Parses YAML or JSON text.
    public static func parse(_ text: String) throws -> TrainingConfig {
        try read(ConfigDocument.parse(text))
    }

    /// Reads a parsed document; every problem is thrown at once.
    public static func read(_ document: JSONValue) throws -> TrainingConfig {
        let issues = ConfigIssues()
        var c = TrainingConfig()
        if let root = ConfigSection(document, path: "", issues: issues, required: true) {
            c.dataset = root.string("dataset", default: c.dataset)
            c.dataDirectory = root.string("data_dir")
            c.epochs = root.int("epochs", default: c.epochs, min: 1, max: maximumEpochs)
            c.batchSize = root.int("batch_size", default: c.batchSize, min: 1, max: maximumBatch)
            c.seed = UInt64(root.int("seed", default: Int(c.seed), min: 0))
            c.threads = root.int("threads", default: c.threads, min: 1, max: 1024)
            if let m = root.section("model") { c.model = ModelSpec(m) }
            if let o = root.section("optimizer") { c.optimizer = OptimizerSpec(o) }
            root.finish()
        }
        try issues.throwIfAny()
        try c.validate()
        return c
    }

    /// The config in the same dialect it is read in, keys in a fixed order, so that a
    /// checkpoint's copy of it is byte-identical across runs and can be read back.
    public var document: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("dataset", .string(dataset))]
        if let dataDirectory { members.append(("data_dir", .string(dataDirectory))) }
        members += [("model", model.document), ("optimizer", optimizer.document), ("epochs", .number(Double(epochs))),
                    ("batch_size", .number(Double(batchSize))), ("seed", .number(Double(seed))), ("threads", .number(Double(threads)))]
        return .object(members)
    }
}
