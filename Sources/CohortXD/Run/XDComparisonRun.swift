import CohortCluster
import CohortData
import CohortFiles
import CohortTensor
import CohortTrain
import Foundation

/// `cohort xd` as a library call: every rank calls it with the same options.
///
/// 1. Rank 0 reads the config (from `--config`, or the run directory's copy on
///    `--resume`), creates or locks the run directory, and broadcasts the config text
///    (or the error) so every rank parses the same document.
/// 2. Every rank makes the task's data from the config alone (Burgers' pairs are solved
///    in interleaved shares and summed, so all ranks hold the same samples).
/// 3. For each model in `models` (the backbone, its XD conversion, and the FNO or the
///    backbone on unpermuted images) the ranks train it data-parallel for `epochs`
///    epochs from one seed, so the backbone and its conversion start from the same
///    weights and see the same batches. After every epoch rank 0 journals the training
///    loss and test metric (`events.jsonl`), then checkpoints the model and both
///    optimizers (`checkpoints/<model>.safetensors`).
/// 4. On `--resume`, each model continues from its checkpoint; journal lines past it
///    are dropped and recomputed (training is deterministic, so they come out the same).
/// 5. Rank 0 writes `summary.json` (task, metric, seed, ranks, the test metric of each
///    model, its curve): byte-identical for one seed and rank count, however often the
///    run was stopped. Wall times go to `timing.json`.
public enum XDComparisonRun {
    public struct Options: Sendable {
        public var configPath: String?
        public var out: String?
        public var resume = false
        /// Stop (as if killed) after this many epochs in total; for tests of `--resume`.
        public var stopAfterEpochs: Int?
        /// Override the config's seed (a new run only).
        public var seed: UInt64?

        public init(configPath: String? = nil, out: String? = nil, resume: Bool = false, stopAfterEpochs: Int? = nil, seed: UInt64? = nil) {
            self.configPath = configPath
            self.out = out
            self.resume = resume
            self.stopAfterEpochs = stopAfterEpochs
            self.seed = seed
        }
    }

    /// One model's outcome.
    public struct ModelResult: Sendable, Equatable {
        public var model: XDConfig.ModelKind
        public var testMetric: Double
        public var curve: [(trainLoss: Double, testMetric: Double)]
        public var weights: Int, architectureParameters: Int
        public var secondsPerEpoch: Double

        public static func == (a: ModelResult, b: ModelResult) -> Bool {
            a.model == b.model && a.testMetric == b.testMetric && a.weights == b.weights
                && a.curve.map(\.trainLoss) == b.curve.map(\.trainLoss) && a.curve.map(\.testMetric) == b.curve.map(\.testMetric)
        }
    }

    public struct Outcome: Sendable {
        public var runDirectory: URL
        public var config: XDConfig
        public var results: [ModelResult]
        /// False when `stopAfterEpochs` ended the run early.
        public var finished: Bool
    }

    public static func run(_ options: Options, communicator: Communicator,
                           log: @escaping (String) -> Void = { _ in }) throws -> Outcome {
        let root = communicator.rank == 0
        // 1. The config and the run directory.
        let opened = try SharedRunDirectory.open(
            configPath: options.configPath, out: options.out, resume: options.resume, communicator: communicator,
            prepare: SharedRunDirectory.seeded(options.seed, load: { let c = try XDConfig.load(path: $0); return (c.sourceText, c.name) },
                                               parse: { _ = try XDConfig.parse($0) }),
            inputError: { XDInputError($0) })
        defer { withExtendedLifetime(opened) {} }
        let config = try XDConfig.parse(opened.configText, defaultName: "xd")
        try config.validate(ranks: communicator.size)
        let run = opened.run

        // 2. Data.
        let started = DispatchTime.now().uptimeNanoseconds
        let tasks = try makeData(config, communicator: communicator)
        if root { log("data: \(tasks.description) in \(seconds(since: started)) s") }

        // 3-4. Models.
        let journal = root ? try Journal(run: run, resume: options.resume) : nil
        var results: [ModelResult] = []
        var epochBudget = options.stopAfterEpochs ?? Int.max
        for kind in config.models {
            let data = kind == .backboneUnpermuted ? tasks.unpermuted! : tasks.primary
            let (model, architecture) = try build(kind, config: config, sampleShape: data.inputShape, classes: data.classCount)
            let steps = (data.trainCount + config.batchSize - 1) / config.batchSize
            let weights = model.groupRanges[""] ?? 0..<0
            var groups: [(range: Range<Int>, optimizer: Optimizer)] = [
                (weights, try config.optimizer.make(parameterCount: weights.count, stepsPerEpoch: steps, epochs: config.epochs)),
            ]
            if let architecture {
                groups.append((architecture, try config.architectureOptimizer.make(parameterCount: architecture.count, stepsPerEpoch: steps, epochs: config.epochs)))
            }
            let optimizer = try GroupedOptimizer(groups)
            let trainer = try XDTrainer(model: model, optimizer: optimizer, data: data, batchSize: config.batchSize, seed: config.seed,
                                    communicator: communicator)
            trainer.verifyEvery = config.verifyEvery
            let checkpointURL = run.checkpointsURL.appendingPathComponent("\(kind.rawValue).safetensors")
            var firstEpoch = 0
            var message = [""]
            if root, options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
                do {
                    let checkpoint = try Checkpoint.read(from: checkpointURL)
                    guard (0...config.epochs).contains(checkpoint.step) else {
                        throw XDInputError("\(checkpointURL.lastPathComponent) is at epoch \(checkpoint.step), outside 0...\(config.epochs)")
                    }
                    try checkpoint.restore(into: model, optimizer: optimizer)
                    firstEpoch = checkpoint.step
                } catch { message = ["\(error)"] }
            }
            if communicator.size > 1 {
                message = try communicator.broadcast(message: root ? message : nil, root: 0)
                var state = [Float(firstEpoch)]
                try communicator.broadcast(&state, root: 0)
                firstEpoch = Int(state[0])
                try communicator.broadcast(model.parameters.flat, root: 0)
                try communicator.broadcast(model.state.flat, root: 0)
                for (_, buffer) in optimizer.state { try communicator.broadcast(buffer.flat, root: 0) }
                optimizer.stepCount = firstEpoch * steps
            }
            guard message[0].isEmpty else { throw XDInputError("cannot resume \(kind.rawValue): \(message[0])") }
            var curve = journal?.curve(kind, through: firstEpoch) ?? []
            var epochSeconds: [Double] = journal?.seconds(kind, through: firstEpoch) ?? []
            if firstEpoch > 0, root { log("\(kind.rawValue): resuming after epoch \(firstEpoch)") }
            for epoch in firstEpoch..<config.epochs {
                guard epochBudget > 0 else {
                    return Outcome(runDirectory: run.url, config: config, results: results, finished: false)
                }
                epochBudget -= 1
                let t0 = DispatchTime.now().uptimeNanoseconds
                let loss = try trainer.trainEpoch(epoch)
                let trained = seconds(since: t0)
                let metric = try trainer.evaluate()
                curve.append((loss, metric))
                epochSeconds.append(trained)
                if let journal {
                    try journal.append(.object([("event", .string("epoch")), ("model", .string(kind.rawValue)), ("epoch", .int(epoch + 1)),
                                                ("train_loss", .number(loss)), ("test", .number(metric)), ("seconds", .number(trained))]))
                    try Checkpoint(model: model, optimizer: optimizer, step: epoch + 1, metadata: ["model": kind.rawValue]).write(to: checkpointURL)
                    log(String(format: "%@ epoch %d/%d: train loss %.4f, test %@ %.4f (%.1f s)", kind.rawValue, epoch + 1, config.epochs, loss,
                               config.metric, metric, trained))
                }
            }
            results.append(ModelResult(model: kind, testMetric: curve.last?.testMetric ?? .nan, curve: curve,
                                       weights: weights.count, architectureParameters: architecture?.count ?? 0,
                                       secondsPerEpoch: epochSeconds.isEmpty ? 0 : epochSeconds.reduce(0, +) / Double(epochSeconds.count)))
        }

        // 5. The summary.
        if root {
            try AtomicFile.write(summary(config, ranks: communicator.size, results: results), to: run.file("summary.json"))
            try AtomicFile.write(.object([("ranks", .int(communicator.size)),
                                          ("seconds_per_epoch", .object(results.map { ($0.model.rawValue, .number($0.secondsPerEpoch)) }))]),
                                 to: run.file("timing.json"))
        }
        return Outcome(runDirectory: run.url, config: config, results: results, finished: true)
    }

    // MARK: Steps

    struct Tasks: CustomStringConvertible {
        var primary: XDTaskData
        var unpermuted: XDTaskData?
        var description: String
    }

    static func makeData(_ config: XDConfig, communicator: Communicator) throws -> Tasks {
        switch config.task {
        case .burgers:
            let train = try config.burgers.pairs(count: config.trainCount, seed: config.dataSeed, name: "burgers/train", communicator: communicator)
            let test = try config.burgers.pairs(count: config.testCount, seed: config.dataSeed, firstIndex: config.trainCount,
                                                name: "burgers/test", communicator: communicator)
            return Tasks(primary: .fields(train: train, test: test), unpermuted: nil,
                         description: "Burgers, \(train.count) train / \(test.count) test pairs on \(config.burgers.resolution) points (solved on \(config.burgers.grid), \(config.burgers.steps) steps)")
        case .permutedImages:
            let loaded = try DatasetCatalog.load(name: config.dataset, dataDirectory: config.dataDirectory)
            guard loaded.train.sampleShape.count == 3 else {
                throw XDInputError("\(config.dataset): permuted images need [C, H, W] samples, got \(loaded.train.sampleShape)")
            }
            let train = try loaded.train.subset(0..<min(config.trainCount, loaded.train.count))
            let test = try loaded.test.subset(0..<min(config.testCount, loaded.test.count))
            func both(_ permute: Bool) throws -> XDTaskData {
                .images(train: try PermutedImages.make(train, side: config.side, permute: permute),
                        test: try PermutedImages.make(test, side: config.side, permute: permute))
            }
            return Tasks(primary: try both(true), unpermuted: config.models.contains(.backboneUnpermuted) ? try both(false) : nil,
                         description: "\(config.dataset), \(train.count) train / \(test.count) test images padded to \(config.side)x\(config.side), rows and columns bit-reversed")
        }
    }

    /// The network of `kind`, with the range of its architecture parameters if any.
    static func build(_ kind: XDConfig.ModelKind, config: XDConfig, sampleShape: [Int], classes: Int) throws -> (Model, Range<Int>?) {
        let backbone: () throws -> Module = {
            switch config.task {
            case .burgers:
                return try XDBackbones.burgersConvolutional(width: config.network.width, kernel: config.network.kernel, layers: config.network.layers)
            case .permutedImages:
                return try XDBackbones.leNet(channels: sampleShape[0], height: sampleShape[1], width: sampleShape[2], classes: classes)
            }
        }
        let module: Module
        switch kind {
        case .backbone, .backboneUnpermuted: module = try backbone()
        case .xd: module = try XDConversion(depth: config.depth).convert(try backbone(), sampleShape: sampleShape).module
        case .fno:
            module = try XDBackbones.fourierNeuralOperator(width: config.network.width, modes: config.network.modes,
                                                           layers: config.network.layers, length: sampleShape[1])
        }
        let model = Model(module, seed: config.seed)
        return (model, model.groupRanges[KMatrix.parameterGroup])
    }

    static func summary(_ config: XDConfig, ranks: Int, results: [ModelResult]) -> JSONValue {
        .object([
            ("task", .string(config.task.rawValue)), ("metric", .string(config.metric)), ("seed", .int(Int(config.seed))),
            ("ranks", .int(ranks)), ("epochs", .int(config.epochs)),
            ("results", .object(results.map { ($0.model.rawValue, .number($0.testMetric)) })),
            ("parameters", .object(results.map { ($0.model.rawValue, .object([("weights", .int($0.weights)), ("architecture", .int($0.architectureParameters))])) })),
            ("curves", .object(results.map { r in
                (r.model.rawValue, .object([("train_loss", .array(r.curve.map { .number($0.trainLoss) })),
                                            ("test", .array(r.curve.map { .number($0.testMetric) }))]))
            })),
        ])
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// The run's journal (rank 0): epoch events appended line by line; on resume, the
/// lines a checkpoint does not cover are dropped first.
final class Journal {
    private var events: [JSONValue]
    private let writer: JournalWriter
    private let run: RunDirectory

    init(run: RunDirectory, resume: Bool) throws {
        self.run = run
        events = []
        if resume, let data = FileManager.default.contents(atPath: run.journalURL.path) {
            let all = try JSONLines.parse(data).values
            // Keep each model's epochs up to its checkpoint.
            var covered: [String: Int] = [:]
            for kind in XDConfig.ModelKind.allCases {
                let url = run.checkpointsURL.appendingPathComponent("\(kind.rawValue).safetensors")
                covered[kind.rawValue] = (try? Checkpoint.read(from: url))?.step ?? 0
            }
            events = all.filter { e in
                guard let model = e["model"]?.stringValue, let epoch = e["epoch"]?.intValue else { return false }
                return epoch <= covered[model, default: 0]
            }
            try AtomicFile.write(events.map { $0.description + "\n" }.joined(), to: run.journalURL)
        }
        writer = try JournalWriter(url: run.journalURL, durability: .written)
    }

    func append(_ event: JSONValue) throws {
        try writer.append(event)
        events.append(event)
    }

    private func epochs(_ kind: XDConfig.ModelKind, through last: Int) -> [JSONValue] {
        events.filter { $0["model"]?.stringValue == kind.rawValue && ($0["epoch"]?.intValue ?? .max) <= last }
    }

    func curve(_ kind: XDConfig.ModelKind, through last: Int) -> [(trainLoss: Double, testMetric: Double)] {
        epochs(kind, through: last).map { ($0["train_loss"]?.doubleValue ?? .nan, $0["test"]?.doubleValue ?? .nan) }
    }

    func seconds(_ kind: XDConfig.ModelKind, through last: Int) -> [Double] {
        epochs(kind, through: last).map { $0["seconds"]?.doubleValue ?? 0 }
    }
}
