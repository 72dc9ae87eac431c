import CohortFiles
import CohortTrain
import CohortXD
import Foundation

/// Everything that defines an ORCA comparison, read from YAML or JSON.
///
/// ```yaml
/// name: orca-wine
/// seed: 1                        # weights, batch order, source sentences
/// task:
///   type: tabular                # tabular | burgers
///   dataset: wine                # tabular: wine | breast_cancer (scikit-learn's CSVs), or file: PATH
///   test_fraction: 0.25          # tabular: share of each class held out
///   data_seed: 0                 # the split (tabular) or the initial conditions (burgers)
///   train: 200                   # burgers: training pairs (tabular: at most this many rows)
///   test: 50                     # burgers: test pairs
///   resolution: 256              # burgers: points kept (the input length)
///   grid: 1024                   # burgers: solver points
///   patch: 8                     # burgers: points per token (resolution / patch tokens)
/// body:
///   dir: /usr/local/share/cohort/all-minilm-l6-v2   # default; COHORT_MINILM_DIR overrides
///   layers: 6                    # the first layers of the body used (at most its own)
/// variants: [scratch, finetune, orca]
/// alignment:
///   epochs: 4                    # stage 1 (orca only): the embedder alone, MMD to text features
///   source_samples: 256          # lines of the plays embedded as the source features
///   source_tokens: 32            # tokens per line at most
///   optimizer: {type: adam, learning_rate: 1.0e-3}
/// training:
///   epochs: 3                    # stage 2: everything, on the task
///   batch_size: 16               # global; every rank takes a shard
///   optimizer: {type: adam, learning_rate: 5.0e-5}
/// ```
public struct ORCAConfig: Sendable {
    public enum Task: String, CaseIterable, Sendable { case tabular, burgers }
    public enum Variant: String, CaseIterable, Sendable {
        /// The same architecture, body randomly initialised, no alignment.
        case scratch
        /// The pretrained body fine-tuned with a fresh embedder, no alignment.
        case finetune
        /// Align the embedder to the text features, then fine-tune everything.
        case orca
    }

    public var name = "orca"
    public var seed: UInt64 = 1
    public var task = Task.tabular
    public var dataset = "wine"
    public var file: String?
    public var testFraction = 0.25
    public var dataSeed: UInt64 = 0
    public var trainCount = 200
    public var testCount = 50
    public var burgers = BurgersEquation()
    public var patch = 8
    public var bodyDirectory: String?
    public var bodyLayers = 6
    public var variants: [Variant] = Variant.allCases
    public var alignmentEpochs = 4
    public var sourceSamples = 256
    public var sourceTokens = 32
    public var alignmentOptimizer = ORCAConfig.adam(1e-3)
    public var epochs = 3
    public var batchSize = 16
    public var optimizer = ORCAConfig.adam(5e-5)
    /// The text the config was read from (copied into the run directory).
    public var sourceText = ""

    public init() {}

    static func adam(_ rate: Float) -> OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = .adam
        o.learningRate = rate
        return o
    }

    /// The test metric: accuracy for tables, relative L2 error for Burgers.
    public var metric: String { task == .burgers ? "relative_l2" : "accuracy" }

    /// The CSV of a tabular task.
    public var tabularPath: String {
        if let file { return file }
        let stem = dataset == "wine" ? "wine_data" : dataset
        return (TabularData.defaultDirectory as NSString).appendingPathComponent("\(stem).csv")
    }

    // MARK: Reading

    public static func load(path: String) throws -> ORCAConfig {
        try ConfigDocument.load(path: path) { try parse($0, source: $1, defaultName: $2) }
    }

    /// Parses and validates config text; throws every problem at once, each with its key.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "orca") throws -> ORCAConfig {
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: source, issues: issues)
        var c = ORCAConfig()
        c.sourceText = text
        c.name = top.runName(default: defaultName)
        c.seed = UInt64(top.int("seed", default: 1, min: 0))
        let empty = { (key: String) in ConfigSection(emptyAt: key, issues: issues) }

        let task = top.section("task", required: true, hint: "type: tabular or burgers") ?? empty("task")
        if !task.has("type") { task.issue("type", "is missing (one of tabular, burgers)") }
        c.task = task.choice("type", Task.tabular)
        c.dataSeed = UInt64(task.int("data_seed", default: 0, min: 0))
        switch c.task {
        case .tabular:
            c.dataset = task.string("dataset", default: "wine", allowed: ["wine", "breast_cancer"])
            c.file = task.string("file")
            c.testFraction = task.double("test_fraction", default: c.testFraction, min: 0.01, max: 0.9)
            c.trainCount = task.int("train", default: 1_000_000, min: 1, max: 1_000_000)
        case .burgers:
            c.trainCount = task.int("train", default: c.trainCount, min: 1, max: 1_000_000)
            c.testCount = task.int("test", default: c.testCount, min: 1, max: 1_000_000)
            c.burgers.grid = task.int("grid", default: c.burgers.grid, min: 8, max: 1 << 16)
            c.burgers.resolution = task.int("resolution", default: c.burgers.resolution, min: 2, max: 1 << 16)
            c.burgers.viscosity = task.double("viscosity", default: c.burgers.viscosity, max: 1e3, above: 0)
            c.burgers.time = task.double("time", default: c.burgers.time, max: 100, above: 0)
            c.patch = task.int("patch", default: c.patch, min: 1, max: 1 << 16)
            task.check { try c.burgers.validate() }
            if c.burgers.resolution % c.patch != 0 {
                task.issue("patch", "must divide task.resolution (\(c.burgers.resolution)), got \(c.patch)")
            }
        }
        task.finish()

        let body = top.section("body") ?? empty("body")
        c.bodyDirectory = body.string("dir")
        c.bodyLayers = body.int("layers", default: c.bodyLayers, min: 1, max: 128)
        body.finish()

        if let list = top.value("variants") {
            if let items = list.arrayValue, !items.isEmpty {
                var chosen: [Variant] = []
                for item in items {
                    guard let s = item.stringValue, let v = Variant(rawValue: s) else {
                        top.issue("variants", "\(item) is not a variant (scratch, finetune, orca)")
                        continue
                    }
                    if !chosen.contains(v) { chosen.append(v) }
                }
                c.variants = chosen
            } else {
                top.issue("variants", "must be a non-empty list of scratch, finetune, orca")
            }
        }

        let alignment = top.section("alignment") ?? empty("alignment")
        c.alignmentEpochs = alignment.int("epochs", default: c.alignmentEpochs, min: 0, max: 100_000)
        c.sourceSamples = alignment.int("source_samples", default: c.sourceSamples, min: 2, max: 100_000)
        c.sourceTokens = alignment.int("source_tokens", default: c.sourceTokens, min: 3, max: 512)
        if let s = alignment.section("optimizer") { c.alignmentOptimizer = OptimizerSpec(s, defaults: c.alignmentOptimizer) }
        alignment.finish()

        let training = top.section("training") ?? empty("training")
        c.epochs = training.int("epochs", default: c.epochs, min: 1, max: 100_000)
        c.batchSize = training.int("batch_size", default: c.batchSize, min: 2, max: 1 << 16)
        if let s = training.section("optimizer") { c.optimizer = OptimizerSpec(s, defaults: c.optimizer) }
        training.finish()

        top.finish()
        try issues.throwIfAny()
        return c
    }

    /// Checks what depends on the number of ranks: every rank needs a sample of every batch.
    public func validate(ranks: Int) throws {
        if batchSize < ranks {
            throw ORCAInputError("training.batch_size (\(batchSize)) is smaller than the number of ranks (\(ranks)): every rank needs at least one sample of each batch")
        }
    }
}
