import CohortFiles
import CohortTrain
import Foundation

/// Everything that defines an XD comparison, read from YAML or JSON.
///
/// ```yaml
/// name: xd-burgers
/// seed: 1                        # weights, batch order; the data has its own seed
/// task:
///   type: burgers                # burgers | permuted_images
///   train: 1000                  # training samples
///   test: 100                    # test samples
///   data_seed: 0                 # burgers: initial conditions (train first, then test)
///   grid: 1024                   # burgers: solver points
///   resolution: 256              # burgers: points kept (the model's input length)
///   viscosity: 0.01              # burgers
///   time: 1.0                    # burgers: the map is u(., 0) -> u(., time)
///   dataset: fashion-mnist       # permuted_images: any [C, H, W] image dataset Cohort reads
///   side: 32                     # permuted_images: padded square side (power of two)
/// models: [backbone, xd, fno]    # burgers: backbone | xd | fno; images: backbone | xd | backbone_unpermuted
/// network: {width: 64, kernel: 17, layers: 4, modes: 16}   # burgers backbone and FNO
/// xd:
///   depth: 1                     # butterfly blocks per K-matrix
///   optimizer: {type: adam, learning_rate: 1.0e-3}   # the architecture parameters' optimizer
/// training:
///   epochs: 20
///   batch_size: 20               # global; every rank takes a shard
///   optimizer: {type: adam, learning_rate: 1.0e-3, schedule: step, step_epochs: 100, gamma: 0.5}
///   verify_every: 100            # steps between cross-rank weight checks (0: never)
/// ```
public struct XDConfig: Sendable {
    public enum Task: String, CaseIterable, Sendable { case burgers, permutedImages = "permuted_images" }
    public enum ModelKind: String, CaseIterable, Sendable {
        case backbone, xd, fno
        case backboneUnpermuted = "backbone_unpermuted"
    }

    public struct Network: Sendable, Equatable {
        public var width = 64, kernel = 17, layers = 4, modes = 16
    }

    public var name = "xd"
    public var seed: UInt64 = 1
    public var task = Task.burgers
    public var trainCount = 1000
    public var testCount = 100
    public var dataSeed: UInt64 = 0
    public var burgers = BurgersEquation()
    public var dataset = "fashion-mnist"
    public var dataDirectory: String?
    public var side = 32
    public var models: [ModelKind] = [.backbone, .xd, .fno]
    public var network = Network()
    public var depth = 1
    public var architectureOptimizer = XDConfig.defaultArchitectureOptimizer
    public var epochs = 20
    public var batchSize = 20
    public var optimizer = XDConfig.defaultOptimizer
    public var verifyEvery = 100
    /// The text the config was read from (copied into the run directory).
    public var sourceText = ""

    public init() {}

    /// Adam at 1e-3, halved every 100 epochs: the Burgers backbone's schedule.
    public static var defaultOptimizer: OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = .adam
        o.learningRate = 1e-3
        o.schedule = .step
        o.stepEpochs = 100
        o.gamma = 0.5
        return o
    }

    /// Adam at 1e-3 for the K-matrices, as the reference trains them.
    public static var defaultArchitectureOptimizer: OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = .adam
        o.learningRate = 1e-3
        return o
    }

    /// The test metric's name: accuracy for images, relative L2 error for Burgers.
    public var metric: String { task == .burgers ? "relative_l2" : "accuracy" }

    // MARK: Reading

    public static func load(path: String) throws -> XDConfig {
        try ConfigDocument.load(path: path) { try parse($0, source: $1, defaultName: $2) }
    }

    /// Parses and validates config text; throws every problem at once, each with its key.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "xd") throws -> XDConfig {
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: source, issues: issues)
        var c = XDConfig()
        c.sourceText = text
        c.name = top.runName(default: defaultName)
        c.seed = UInt64(top.int("seed", default: 1, min: 0))
        let empty = { (key: String) in ConfigSection(emptyAt: key, issues: issues) }

        let task = top.section("task", required: true, hint: "type: burgers or permuted_images") ?? empty("task")
        if !task.has("type") { task.issue("type", "is missing (one of burgers, permuted_images)") }
        c.task = task.choice("type", Task.burgers)
        switch c.task {
        case .burgers:
            c.trainCount = task.int("train", default: 1000, min: 1, max: 1_000_000)
            c.testCount = task.int("test", default: 100, min: 1, max: 1_000_000)
            c.dataSeed = UInt64(task.int("data_seed", default: 0, min: 0))
            c.burgers.grid = task.int("grid", default: c.burgers.grid, min: 8, max: 1 << 16)
            c.burgers.resolution = task.int("resolution", default: c.burgers.resolution, min: 2, max: 1 << 16)
            c.burgers.viscosity = task.double("viscosity", default: c.burgers.viscosity, max: 1e3, above: 0)
            c.burgers.time = task.double("time", default: c.burgers.time, max: 100, above: 0)
            c.burgers.amplitudeBound = task.double("amplitude_bound", default: c.burgers.amplitudeBound, max: 1e3, above: 0)
            task.check { try c.burgers.validate() }
            c.models = [.backbone, .xd, .fno]
        case .permutedImages:
            c.trainCount = task.int("train", default: 60_000, min: 1, max: 10_000_000)
            c.testCount = task.int("test", default: 10_000, min: 1, max: 10_000_000)
            c.dataset = task.string("dataset", default: c.dataset)
            c.dataDirectory = task.string("data_dir")
            c.side = task.int("side", default: c.side, min: 16, max: 4096)
            if c.side & (c.side - 1) != 0 { task.issue("side", "must be a power of two, got \(c.side)") }
            c.models = [.backbone, .xd, .backboneUnpermuted]
        }
        task.finish()

        if let list = top.value("models") {
            let allowed: [ModelKind] = c.task == .burgers ? [.backbone, .xd, .fno] : [.backbone, .xd, .backboneUnpermuted]
            if let items = list.arrayValue, !items.isEmpty {
                var chosen: [ModelKind] = []
                for item in items {
                    guard let s = item.stringValue, let kind = ModelKind(rawValue: s), allowed.contains(kind) else {
                        top.issue("models", "\(item) is not a model of this task (\(allowed.map(\.rawValue).joined(separator: ", ")))")
                        continue
                    }
                    if !chosen.contains(kind) { chosen.append(kind) }
                }
                c.models = chosen
            } else {
                top.issue("models", "must be a non-empty list of \(allowed.map(\.rawValue).joined(separator: ", "))")
            }
        }

        let network = top.section("network") ?? empty("network")
        c.network.width = network.int("width", default: c.network.width, min: 1, max: 4096)
        c.network.kernel = network.int("kernel", default: c.network.kernel, min: 1, max: 4097)
        if c.network.kernel % 2 == 0 { network.issue("kernel", "must be odd (a centred circular convolution), got \(c.network.kernel)") }
        c.network.layers = network.int("layers", default: c.network.layers, min: 1, max: 64)
        c.network.modes = network.int("modes", default: c.network.modes, min: 1, max: 1 << 15)
        network.finish()
        if c.task == .burgers {
            if c.network.kernel > c.burgers.resolution { network.issue("kernel", "\(c.network.kernel) is larger than the input (task.resolution \(c.burgers.resolution))") }
            if c.network.modes > c.burgers.resolution / 2 { network.issue("modes", "must be at most task.resolution / 2 (\(c.burgers.resolution / 2)), got \(c.network.modes)") }
        }

        let xd = top.section("xd") ?? empty("xd")
        c.depth = xd.int("depth", default: c.depth, min: 1, max: 16)
        if let s = xd.section("optimizer") { c.architectureOptimizer = OptimizerSpec(s, defaults: c.architectureOptimizer) }
        xd.finish()

        let training = top.section("training") ?? empty("training")
        c.epochs = training.int("epochs", default: c.epochs, min: 1, max: 100_000)
        c.batchSize = training.int("batch_size", default: c.batchSize, min: 1, max: 1 << 16)
        if let s = training.section("optimizer") { c.optimizer = OptimizerSpec(s, defaults: c.optimizer) }
        c.verifyEvery = training.int("verify_every", default: c.verifyEvery, min: 0, max: 1 << 30)
        training.finish()

        top.finish()
        try issues.throwIfAny()
        return c
    }

    /// Checks what depends on the number of ranks: every rank needs a sample of every batch.
    public func validate(ranks: Int) throws {
        if batchSize < ranks {
            throw XDInputError("training.batch_size (\(batchSize)) is smaller than the number of ranks (\(ranks)): every rank needs at least one sample of each batch")
        }
    }
}
