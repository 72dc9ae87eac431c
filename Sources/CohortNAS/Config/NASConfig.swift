import CohortTrain
import CohortTune
import Foundation

/// Everything that defines an architecture search, read from YAML or JSON.
///
/// ```yaml
/// name: rsws-fashion           # run name; default run directory runs/<name>
/// seed: 1                      # experiment seed: data subsets, splits, weights, sampling
/// dataset: fashion-mnist       # digits, fashion-mnist, mnist, an IDX directory, a CSV file
/// network: {channels: 8, cells: [1, 1, 1], stemStride: 1}   # first-stage channels, cells per stage
/// search:                      # supernet training (all strategies)
///   samples: 12000             # training samples used (seeded subset; all when absent)
///   epochs: 3
///   batchSize: 64              # global; every rank takes a shard
///   optimizer: {kind: sgd, learningRate: 0.05, momentum: 0.9, weightDecay: 3.0e-4, schedule: cosine}
///   gradientClip: 5            # global gradient norm (0: none)
///   verifyEvery: 200           # steps between cross-rank parameter checks
///   recordEvery: 20            # steps between architecture-weight records
/// strategy:
///   type: rsws                 # rsws | gaea | darts
///   rounds: 1                  # rsws: sample / score / re-score rounds
///   architectures: 1000        # rsws: architectures sampled per round
///   scoreBatches: 10           # rsws: validation minibatches per architecture
///   scoreBatchSize: 256        # rsws: samples per scoring minibatch
///   rescoreTop: 10             # rsws: best of each round re-scored on all validation
///   eta: 0.1                   # gaea: exponentiated-gradient step size
///   clamp: 1.0e-5              # gaea: smallest weight before renormalizing
///   singleLevel: false         # gaea, darts: weights and architecture on the same training batches
///   warmupEpochs: 0            # gaea, darts: epochs of weight steps before the architecture moves
///   learningRate: 3.0e-4       # darts: Adam on the logits, betas (0.5, 0.999)
/// retrain:                     # training chosen architectures from scratch
///   top: 3                     # rsws: candidates retrained (gaea, darts: the derived one)
///   samples: 12000             # training samples (seeded subset; all when absent)
///   validationFraction: 0.1    # held out from them to rank the retrained candidates
///   epochs: 3
///   batchSize: 64
///   optimizer: {kind: sgd, learningRate: 0.05, momentum: 0.9, weightDecay: 3.0e-4, schedule: cosine}
///   workers: 2                 # in-process workers when not under mpirun
/// ```
public struct NASConfig: Sendable {
    public enum Strategy: String, CaseIterable, Sendable {
        case rsws, gaea, darts
    }

    /// Supernet training, whatever the strategy.
    public struct Search: Sendable, Equatable {
        public var samples: Int?
        public var epochs = 3
        public var batchSize = 64
        public var optimizer = NASConfig.defaultOptimizer
        public var gradientClip: Float = 5
        public var verifyEvery = 200
        public var recordEvery = 20
        public init() {}
    }

    /// Random search with weight sharing: how candidates are scored.
    public struct RSWS: Sendable, Equatable {
        public var rounds = 1
        public var architectures = 1000
        public var scoreBatches = 10
        public var scoreBatchSize = 256
        public var rescoreTop = 10
        public init() {}
    }

    /// GAEA: exponentiated gradient on each edge's simplex.
    public struct GAEA: Sendable, Equatable {
        public var eta = 0.1
        public var clamp = 1e-5
        public var singleLevel = false
        /// Epochs of weight steps only before the architecture starts to move.
        public var warmupEpochs = 0
        public init() {}
    }

    /// DARTS (first order): softmax over logits, Adam.
    public struct DARTS: Sendable, Equatable {
        public var learningRate: Float = 3e-4
        public var beta1: Float = 0.5
        public var beta2: Float = 0.999
        public var weightDecay: Float = 1e-3
        public var initialScale = 1e-3
        public var singleLevel = false
        /// Epochs of weight steps only before the architecture starts to move.
        public var warmupEpochs = 0
        public init() {}
    }

    /// Training an architecture from scratch.
    public struct Retrain: Sendable, Equatable {
        public var top = 3
        public var samples: Int?
        public var validationFraction = 0.1
        public var epochs = 3
        public var batchSize = 64
        public var optimizer = NASConfig.defaultOptimizer
        public var workers = 2
        public init() {}
    }

    public var name = "nas"
    public var seed: UInt64 = 1
    public var dataset = "fashion-mnist"
    public var dataDirectory: String?
    public var network = NetworkSpec()
    public var search = Search()
    public var strategy = Strategy.rsws
    public var rsws = RSWS()
    public var gaea = GAEA()
    public var darts = DARTS()
    public var retrain = Retrain()
    /// The text the config was read from (copied into the run directory).
    public var sourceText = ""

    public init() {}

    /// SGD with momentum 0.9, weight decay 3e-4 and a cosine schedule from 0.05, as
    /// NAS-Bench-201 trains its supernets and cells (with a larger rate for short runs).
    public static var defaultOptimizer: OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = .sgd
        o.learningRate = 0.05
        o.momentum = 0.9
        o.weightDecay = 3e-4
        o.schedule = .cosine
        return o
    }

    // MARK: Reading

    /// Reads a YAML or JSON config file.
    public static func load(path: String) throws -> NASConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NASInputError("config \(path) cannot be read (no such file, or no permission)")
        }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), source: path, defaultName: base)
    }

    /// Parses and validates config text; the error names the file and the key.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "nas") throws -> NASConfig {
        let root: JSONValue
        do {
            root = try ConfigDocument.parse(text, source: source)
        } catch let e as CohortTune.ConfigError {
            throw NASInputError(e.issues.map(\.description).joined(separator: "; "))
        }
        var top = ConfigSection(root, path: "")
        var c = NASConfig()
        c.sourceText = text
        c.name = top.string("name", default: defaultName)
        if c.name.isEmpty || c.name.contains("/") { top.problem("name", "must be a non-empty name without '/'") }
        c.seed = UInt64(top.int("seed", default: 1, min: 0))
        c.dataset = top.string("dataset", default: c.dataset)
        c.dataDirectory = top.optionalString("dataDirectory")

        var network = top.section("network")
        c.network.channels = network.int("channels", default: c.network.channels, min: 1)
        c.network.cellsPerStage = network.ints("cells", default: c.network.cellsPerStage)
        c.network.stemStride = network.int("stemStride", default: c.network.stemStride, min: 1)
        network.finish()
        top.absorb(network)

        var search = top.section("search")
        c.search.samples = search.optionalInt("samples", min: 2)
        c.search.epochs = search.int("epochs", default: c.search.epochs, min: 1)
        c.search.batchSize = search.int("batchSize", default: c.search.batchSize, min: 1)
        c.search.optimizer = readOptimizer(&search, fallback: c.search.optimizer)
        c.search.gradientClip = Float(search.double("gradientClip", default: Double(c.search.gradientClip), atLeast: 0))
        c.search.verifyEvery = search.int("verifyEvery", default: c.search.verifyEvery, min: 1)
        c.search.recordEvery = search.int("recordEvery", default: c.search.recordEvery, min: 1)
        search.finish()
        top.absorb(search)

        var strategy = top.section("strategy")
        let type = strategy.string("type", default: "", allowed: Strategy.allCases.map(\.rawValue))
        if strategy.value("type") == nil {
            strategy.problem("type", "is missing (one of \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        c.strategy = Strategy(rawValue: type) ?? .rsws
        switch c.strategy {
        case .rsws:
            c.rsws.rounds = strategy.int("rounds", default: c.rsws.rounds, min: 1)
            c.rsws.architectures = strategy.int("architectures", default: c.rsws.architectures, min: 1)
            c.rsws.scoreBatches = strategy.int("scoreBatches", default: c.rsws.scoreBatches, min: 1)
            c.rsws.scoreBatchSize = strategy.int("scoreBatchSize", default: c.rsws.scoreBatchSize, min: 2)
            c.rsws.rescoreTop = strategy.int("rescoreTop", default: c.rsws.rescoreTop, min: 1)
        case .gaea:
            c.gaea.eta = strategy.double("eta", default: c.gaea.eta, above: 0)
            c.gaea.clamp = strategy.double("clamp", default: c.gaea.clamp, above: 0, below: 0.2)
            c.gaea.singleLevel = strategy.bool("singleLevel", default: c.gaea.singleLevel)
            c.gaea.warmupEpochs = strategy.int("warmupEpochs", default: c.gaea.warmupEpochs, min: 0)
        case .darts:
            c.darts.learningRate = Float(strategy.double("learningRate", default: Double(c.darts.learningRate), above: 0))
            c.darts.beta1 = Float(strategy.double("beta1", default: Double(c.darts.beta1), atLeast: 0, below: 1))
            c.darts.beta2 = Float(strategy.double("beta2", default: Double(c.darts.beta2), atLeast: 0, below: 1))
            c.darts.weightDecay = Float(strategy.double("weightDecay", default: Double(c.darts.weightDecay), atLeast: 0))
            c.darts.initialScale = strategy.double("initialScale", default: c.darts.initialScale, above: 0)
            c.darts.singleLevel = strategy.bool("singleLevel", default: c.darts.singleLevel)
            c.darts.warmupEpochs = strategy.int("warmupEpochs", default: c.darts.warmupEpochs, min: 0)
        }
        strategy.finish()
        top.absorb(strategy)

        var retrain = top.section("retrain")
        c.retrain.top = retrain.int("top", default: c.retrain.top, min: 1)
        c.retrain.samples = retrain.optionalInt("samples", min: 2)
        c.retrain.validationFraction = retrain.double("validationFraction", default: c.retrain.validationFraction, above: 0, below: 1)
        c.retrain.epochs = retrain.int("epochs", default: c.retrain.epochs, min: 1)
        c.retrain.batchSize = retrain.int("batchSize", default: c.retrain.batchSize, min: 1)
        c.retrain.optimizer = readOptimizer(&retrain, fallback: c.retrain.optimizer)
        c.retrain.workers = retrain.int("workers", default: c.retrain.workers, min: 1)
        retrain.finish()
        top.absorb(retrain)

        top.finish()
        if let first = top.problems.first {
            throw NASInputError("config \(source): \(first)")
        }
        return c
    }

    private static func readOptimizer(_ parent: inout ConfigSection, fallback: OptimizerSpec) -> OptimizerSpec {
        var s = parent.section("optimizer")
        var o = fallback
        o.kind = OptimizerSpec.Kind(rawValue: s.string("kind", default: o.kind.rawValue, allowed: OptimizerSpec.Kind.allCases.map(\.rawValue))) ?? o.kind
        o.learningRate = Float(s.double("learningRate", default: Double(o.learningRate), above: 0))
        o.momentum = Float(s.double("momentum", default: Double(o.momentum), atLeast: 0, below: 1))
        o.nesterov = s.bool("nesterov", default: o.nesterov)
        o.weightDecay = Float(s.double("weightDecay", default: Double(o.weightDecay), atLeast: 0))
        o.beta1 = Float(s.double("beta1", default: Double(o.beta1), atLeast: 0, below: 1))
        o.beta2 = Float(s.double("beta2", default: Double(o.beta2), atLeast: 0, below: 1))
        o.schedule = OptimizerSpec.Schedule(rawValue: s.string("schedule", default: o.schedule.rawValue,
                                                                allowed: OptimizerSpec.Schedule.allCases.map(\.rawValue))) ?? o.schedule
        o.warmupEpochs = Float(s.double("warmupEpochs", default: Double(o.warmupEpochs), atLeast: 0))
        o.minimumRate = Float(s.double("minimumRate", default: Double(o.minimumRate), atLeast: 0))
        s.finish()
        if s.problems.isEmpty, o.nesterov && o.momentum == 0 { s.problem("nesterov", "needs momentum > 0") }
        parent.absorb(s)
        return o
    }

    /// Samples per batch when architectures are scored with the shared weights
    /// (RSWS's `scoreBatchSize`; its default for the derived cell of GAEA and DARTS).
    public var scoringBatchSize: Int { rsws.scoreBatchSize }

    // MARK: Checks that need the world

    /// Checks what depends on the number of ranks: every rank needs at least one
    /// sample of every batch.
    public func validate(ranks: Int) throws {
        if search.batchSize < ranks {
            throw NASInputError("search.batchSize (\(search.batchSize)) is smaller than the number of ranks (\(ranks)): every rank needs at least one sample of each batch")
        }
        if let n = search.samples, n / 2 < search.batchSize {
            throw NASInputError("search.samples (\(n)) leaves fewer than one batch of \(search.batchSize) in the training half")
        }
    }
}
