import CohortFiles
import CohortTrain
import CohortTune
import Foundation

/// Everything that defines an architecture search, read from YAML or JSON.
///
/// ```yaml
/// name: rsws-fashion           # run name; default run directory runs/<name>
/// seed: 1                      # experiment seed: data subsets, splits, weights, sampling
/// dataset: fashion-mnist       # digits, fashion-mnist, mnist, an IDX directory, a CSV file
/// network: {channels: 8, cells: [1, 1, 1], stem_stride: 1}   # first-stage channels, cells per stage
/// search:                      # supernet training (all strategies)
///   samples: 12000             # training samples used (seeded subset; all when absent)
///   epochs: 3
///   batch_size: 64             # global; every rank takes a shard
///   optimizer: {type: sgd, learning_rate: 0.05, momentum: 0.9, weight_decay: 3.0e-4, schedule: cosine}
///   gradient_clip: 5           # global gradient norm (0: none)
///   verify_every: 200          # steps between cross-rank parameter checks
///   record_every: 20           # steps between architecture-weight records
///   sync_batch_norm: false     # true: batch statistics summed over the ranks (one batch however
///                              #   many ranks share it; results independent of the rank count
///                              #   up to float rounding); false: each rank's shard's statistics
/// strategy:
///   type: rsws                 # rsws | gaea | darts
///   rounds: 1                  # rsws: sample / score / re-score rounds
///   architectures: 1000        # rsws: architectures sampled per round
///   score_batches: 10          # rsws: validation minibatches per architecture
///   score_batch_size: 256      # rsws: samples per scoring minibatch
///   rescore_top: 10            # rsws: best of each round re-scored on all validation
///   scoring: shared_batches    # rsws: shared_batches (distinct cells, one set of batches per
///                              #   round) or running_batches (i.i.d. cells, each on the next
///                              #   batches of a running validation iterator: the authors' code)
///   eta: 0.1                   # gaea: exponentiated-gradient step size
///   clamp: 1.0e-5              # gaea: smallest weight before renormalizing
///   single_level: false        # gaea, darts: weights and architecture on the same training batches
///   warmup_epochs: 0           # gaea, darts: epochs of weight steps before the architecture moves
///   step_order: weights_first  # gaea, darts bilevel: weights_first, or architecture_first (the
///                              #   authors' code: the architecture step, then the weight step)
///   derive_from: last_epoch    # gaea, darts: the cell after the last epoch, or best_epoch: the cell
///                              #   of the epoch whose supernet scored best on validation (the authors' code)
///   entropy_weight: 0          # gaea: weight of the KL-from-uniform regulariser on each edge
///   adapt_step: false          # gaea: eta divided by the step's largest absolute gradient
///   learning_rate: 3.0e-4      # darts: Adam on the logits, betas (0.5, 0.999)
/// retrain:                     # training chosen architectures from scratch
///   top: 3                     # rsws: candidates retrained (gaea, darts: the derived one)
///   samples: 12000             # training samples (seeded subset; all when absent)
///   validation_fraction: 0.1   # held out from them to rank the retrained candidates
///   epochs: 3
///   batch_size: 64
///   optimizer: {type: sgd, learning_rate: 0.05, momentum: 0.9, weight_decay: 3.0e-4, schedule: cosine}
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
        /// Batch statistics summed over the ranks in training steps.
        public var syncBatchNorm = false
        public init() {}
    }

    /// Random search with weight sharing: how candidates are scored.
    public struct RSWS: Sendable, Equatable {
        /// How a round's candidates are drawn and which batches score them.
        public enum Scoring: String, CaseIterable, Sendable {
            case sharedBatches = "shared_batches"
            case runningBatches = "running_batches"
        }
        public var scoring = Scoring.sharedBatches
        public var rounds = 1
        public var architectures = 1000
        public var scoreBatches = 10
        public var scoreBatchSize = 256
        public var rescoreTop = 10
        public init() {}
    }

    /// The order of a bilevel step's two updates. Weights first is the default here;
    /// the GAEA and DARTS authors' code steps the architecture first.
    public enum StepOrder: String, CaseIterable, Sendable {
        case weightsFirst = "weights_first"
        case architectureFirst = "architecture_first"
    }

    /// Which cell a GAEA or DARTS search returns: the one derived after the last epoch,
    /// or (as the authors' code) the one of the epoch whose supernet had the best
    /// validation accuracy (the earliest such epoch on ties).
    public enum DeriveFrom: String, CaseIterable, Sendable {
        case lastEpoch = "last_epoch"
        case bestEpoch = "best_epoch"
    }

    /// GAEA: exponentiated gradient on each edge's simplex.
    public struct GAEA: Sendable, Equatable {
        public var eta = 0.1
        public var clamp = 1e-5
        public var singleLevel = false
        /// Epochs of weight steps only before the architecture starts to move.
        public var warmupEpochs = 0
        public var stepOrder = StepOrder.weightsFirst
        public var deriveFrom = DeriveFrom.lastEpoch
        /// The entropy regulariser's weight (the authors' `arch_weight_decay`; 0 there too).
        public var entropyWeight = 0.0
        /// Divide eta by the step's largest absolute gradient (the authors' `adapt_lr`).
        public var adaptStep = false
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
        public var stepOrder = StepOrder.weightsFirst
        public var deriveFrom = DeriveFrom.lastEpoch
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
        try ConfigDocument.load(path: path) { try parse($0, source: $1, defaultName: $2) }
    }

    /// Parses and validates config text; throws every problem at once, each with its key.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "nas") throws -> NASConfig {
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: source, issues: issues)
        var c = NASConfig()
        c.sourceText = text
        c.name = top.runName(default: defaultName)
        c.seed = UInt64(top.int("seed", default: 1, min: 0))
        c.dataset = top.string("dataset", default: c.dataset)
        c.dataDirectory = top.string("data_dir")

        let empty = { (key: String) in ConfigSection(emptyAt: key, issues: issues) }
        let network = top.section("network") ?? empty("network")
        c.network.channels = network.int("channels", default: c.network.channels, min: 1, max: 4096)
        c.network.cellsPerStage = network.integers("cells", min: 0, max: 64) ?? c.network.cellsPerStage
        c.network.stemStride = network.int("stem_stride", default: c.network.stemStride, min: 1, max: 8)
        network.finish()

        let search = top.section("search") ?? empty("search")
        c.search.samples = search.int("samples", min: 2)
        c.search.epochs = search.int("epochs", default: c.search.epochs, min: 1, max: 100_000)
        c.search.batchSize = search.int("batch_size", default: c.search.batchSize, min: 1, max: 1 << 20)
        c.search.optimizer = readOptimizer(search, defaults: c.search.optimizer)
        c.search.gradientClip = Float(search.double("gradient_clip", default: Double(c.search.gradientClip), min: 0, max: 1e6))
        c.search.verifyEvery = search.int("verify_every", default: c.search.verifyEvery, min: 1)
        c.search.recordEvery = search.int("record_every", default: c.search.recordEvery, min: 1)
        c.search.syncBatchNorm = search.bool("sync_batch_norm", default: c.search.syncBatchNorm)
        search.finish()

        let strategies = Strategy.allCases.map(\.rawValue).joined(separator: ", ")
        let givenStrategy = top.section("strategy", required: true, hint: "type: \(strategies)")
        if let givenStrategy, !givenStrategy.has("type") { givenStrategy.issue("type", "is missing (one of \(strategies))") }
        let strategy = givenStrategy ?? empty("strategy")
        c.strategy = strategy.choice("type", Strategy.rsws)
        switch c.strategy {
        case .rsws:
            c.rsws.rounds = strategy.int("rounds", default: c.rsws.rounds, min: 1, max: 10_000)
            c.rsws.architectures = strategy.int("architectures", default: c.rsws.architectures, min: 1, max: 1_000_000)
            c.rsws.scoreBatches = strategy.int("score_batches", default: c.rsws.scoreBatches, min: 1, max: 1_000_000)
            c.rsws.scoreBatchSize = strategy.int("score_batch_size", default: c.rsws.scoreBatchSize, min: 2, max: 1 << 20)
            c.rsws.rescoreTop = strategy.int("rescore_top", default: c.rsws.rescoreTop, min: 1, max: 1_000_000)
            c.rsws.scoring = strategy.choice("scoring", c.rsws.scoring)
        case .gaea:
            c.gaea.eta = strategy.double("eta", default: c.gaea.eta, max: 1e6, above: 0)
            c.gaea.clamp = strategy.double("clamp", default: c.gaea.clamp, above: 0, below: 0.2)
            c.gaea.singleLevel = strategy.bool("single_level", default: c.gaea.singleLevel)
            c.gaea.warmupEpochs = strategy.int("warmup_epochs", default: c.gaea.warmupEpochs, min: 0, max: 100_000)
            c.gaea.stepOrder = strategy.choice("step_order", c.gaea.stepOrder)
            c.gaea.deriveFrom = strategy.choice("derive_from", c.gaea.deriveFrom)
            c.gaea.entropyWeight = strategy.double("entropy_weight", default: c.gaea.entropyWeight, min: 0, max: 1e6)
            c.gaea.adaptStep = strategy.bool("adapt_step", default: c.gaea.adaptStep)
        case .darts:
            c.darts.learningRate = Float(strategy.double("learning_rate", default: Double(c.darts.learningRate), max: 1e6, above: 0))
            c.darts.beta1 = Float(strategy.double("beta1", default: Double(c.darts.beta1), min: 0, below: 1))
            c.darts.beta2 = Float(strategy.double("beta2", default: Double(c.darts.beta2), min: 0, below: 1))
            c.darts.weightDecay = Float(strategy.double("weight_decay", default: Double(c.darts.weightDecay), min: 0, max: 1e6))
            c.darts.initialScale = strategy.double("initial_scale", default: c.darts.initialScale, max: 1e6, above: 0)
            c.darts.singleLevel = strategy.bool("single_level", default: c.darts.singleLevel)
            c.darts.warmupEpochs = strategy.int("warmup_epochs", default: c.darts.warmupEpochs, min: 0, max: 100_000)
            c.darts.stepOrder = strategy.choice("step_order", c.darts.stepOrder)
            c.darts.deriveFrom = strategy.choice("derive_from", c.darts.deriveFrom)
        }
        strategy.finish()

        let retrain = top.section("retrain") ?? empty("retrain")
        c.retrain.top = retrain.int("top", default: c.retrain.top, min: 1, max: 10_000)
        c.retrain.samples = retrain.int("samples", min: 2)
        c.retrain.validationFraction = retrain.double("validation_fraction", default: c.retrain.validationFraction, above: 0, below: 1)
        c.retrain.epochs = retrain.int("epochs", default: c.retrain.epochs, min: 1, max: 100_000)
        c.retrain.batchSize = retrain.int("batch_size", default: c.retrain.batchSize, min: 1, max: 1 << 20)
        c.retrain.optimizer = readOptimizer(retrain, defaults: c.retrain.optimizer)
        c.retrain.workers = retrain.int("workers", default: c.retrain.workers, min: 1, max: 4096)
        retrain.finish()

        top.finish()
        try issues.throwIfAny()
        return c
    }

    /// The `optimizer:` section of `parent`, over the NAS defaults.
    private static func readOptimizer(_ parent: ConfigSection, defaults: OptimizerSpec) -> OptimizerSpec {
        guard let s = parent.section("optimizer") else { return defaults }
        let o = OptimizerSpec(s, defaults: defaults)
        if o.nesterov && o.momentum == 0 { s.issue("nesterov", "needs momentum > 0") }
        return o
    }

    /// Samples per batch when architectures are scored with the shared weights
    /// (RSWS's `score_batch_size`; its default for the derived cell of GAEA and DARTS).
    public var scoringBatchSize: Int { rsws.scoreBatchSize }

    // MARK: Checks that need the world

    /// Checks what depends on the number of ranks: every rank needs at least one
    /// sample of every batch.
    public func validate(ranks: Int) throws {
        if search.batchSize < ranks {
            throw NASInputError("search.batch_size (\(search.batchSize)) is smaller than the number of ranks (\(ranks)): every rank needs at least one sample of each batch")
        }
        if let n = search.samples, n / 2 < search.batchSize {
            throw NASInputError("search.samples (\(n)) leaves fewer than one batch of \(search.batchSize) in the training half")
        }
    }
}
