import CohortCluster
import CohortData
import CohortFiles
import CohortTensor
import CohortTrain
import CohortXD
import Foundation

/// `cohort orca` as a library call: every rank calls it with the same options.
///
/// 1. Rank 0 reads the config (from `--config`, or the run directory's copy on
///    `--resume`), creates or locks the run directory, and broadcasts the config text
///    (or the error) so every rank parses the same document.
/// 2. Every rank makes the task's data from the config alone, loads the body's
///    checkpoint and embeds the same source sentences (the seed picks them), so all ranks
///    hold the same source features.
/// 3. For each variant the ranks build the network from one seed (every variant's
///    embedder starts from the same weights; finetune and orca also from the same body),
///    journal the embedder's MMD² to the text features, then: orca trains the embedder
///    alone for `alignment.epochs` (stage 1), and every variant trains everything for
///    `training.epochs` (stage 2), data-parallel. After every epoch rank 0 journals it
///    and checkpoints the network with that stage's optimizer.
/// 4. On `--resume` each variant continues from its checkpoint; journal lines past it
///    are dropped and recomputed (training is deterministic, so they come out the same).
/// 5. Rank 0 writes `summary.json`: byte-identical for one seed and rank count, however
///    often the run was stopped. Wall times go to `timing.json`.
public enum ORCARun {
    public struct Options: Sendable {
        public var configPath: String?
        public var out: String?
        public var resume = false
        /// Stop (as if killed) after this many epochs (of either stage) in total.
        public var stopAfterEpochs: Int?
        /// Override the config's seed (a new run only).
        public var seed: UInt64?

        public init(configPath: String? = nil, out: String? = nil, resume: Bool = false, stopAfterEpochs: Int? = nil, seed: UInt64? = nil) {
            self.configPath = configPath; self.out = out; self.resume = resume
            self.stopAfterEpochs = stopAfterEpochs; self.seed = seed
        }
    }

    /// One variant's outcome.
    public struct VariantResult: Sendable {
        public var variant: ORCAConfig.Variant
        public var testMetric: Double
        /// MMD² of the embedded training inputs to the text features, before any training
        /// and after stage 1 (equal when there is no stage 1).
        public var initialDistance: Double, alignedDistance: Double
        public var alignCurve: [(mmd: Double, distance: Double)]
        public var curve: [(trainLoss: Double, testMetric: Double)]
        public var alignSeconds: Double, trainSeconds: Double
    }

    public struct Outcome: Sendable {
        public var runDirectory: URL
        public var config: ORCAConfig
        public var results: [VariantResult]
        public var parameters: Int
        public var finished: Bool
    }

    public static func run(_ options: Options, communicator: Communicator, log: @escaping (String) -> Void = { _ in }) throws -> Outcome {
        let root = communicator.rank == 0
        // 1. The config and the run directory.
        let opened = try SharedRunDirectory.open(
            configPath: options.configPath, out: options.out, resume: options.resume, communicator: communicator,
            prepare: SharedRunDirectory.seeded(options.seed, load: { let c = try ORCAConfig.load(path: $0); return (c.sourceText, c.name) },
                                               parse: { _ = try ORCAConfig.parse($0) }),
            inputError: { ORCAInputError($0) })
        defer { withExtendedLifetime(opened) {} }
        let config = try ORCAConfig.parse(opened.configText, defaultName: "orca")
        try config.validate(ranks: communicator.size)
        let run = opened.run

        // 2. Data, body, source features.
        let started = DispatchTime.now().uptimeNanoseconds
        let task = try ORCATask.make(config, communicator: communicator)
        let checkpoint = try BertCheckpoint(directory: config.bodyDirectory ?? BertCheckpoint.defaultDirectory)
        guard config.bodyLayers <= checkpoint.config.layers else {
            throw ORCAInputError("body.layers is \(config.bodyLayers), but the checkpoint has \(checkpoint.config.layers) layers")
        }
        guard task.tokens <= checkpoint.config.maxPositions else {
            throw ORCAInputError("the task makes sequences of \(task.tokens) tokens, longer than the body's position table (\(checkpoint.config.maxPositions))")
        }
        guard config.sourceTokens <= checkpoint.config.maxPositions else {
            throw ORCAInputError("alignment.source_tokens (\(config.sourceTokens)) is longer than the body's position table (\(checkpoint.config.maxPositions))")
        }
        let textEncoder = try SentenceEncoder(checkpoint: checkpoint, layers: 0)
        let lines = try SourceFeatures.lines(playsDirectory: PlayScript.defaultDirectory)
        let source = try SourceFeatures.make(encoder: textEncoder, lines: lines, count: config.sourceSamples,
                                             maxTokens: config.sourceTokens, seed: config.seed)
        let mmd = MaximumMeanDiscrepancy(medianOf: source, width: checkpoint.config.hidden)
        let pretrainedPositions = Array(textEncoder.body.positionEmbeddings.tensor.toArray().prefix(task.tokens * checkpoint.config.hidden))
        if root { log("data: \(task.description); \(config.sourceSamples) source lines embedded in \(seconds(since: started)) s") }

        // 3-4. Variants.
        var bodyConfig = checkpoint.config
        bodyConfig.layers = config.bodyLayers
        let covered: (String) -> (align: Int, train: Int) = { variant in
            let url = run.checkpointsURL.appendingPathComponent("\(variant).safetensors")
            guard let cp = try? Checkpoint.read(from: url) else { return (0, 0) }
            return cp.metadata["stage"] == "align" ? (cp.step, 0) : (config.alignmentEpochs, cp.step)
        }
        let journal = root ? try ORCAJournal(run: run, resume: options.resume, covered: covered) : nil
        var results: [VariantResult] = []
        var budget = options.stopAfterEpochs ?? Int.max
        var parameterCount = 0
        for variant in config.variants {
            let pretrained = variant != .scratch
            let body = BertEncoder(bodyConfig, includesEmbeddings: false)
            let embedder = task.embedder(width: bodyConfig.hidden, positions: pretrained ? pretrainedPositions : nil)
            let network = ORCANetwork(embedder: embedder, tokens: task.tokens, body: body, head: task.head)
            let model = Model(network, seed: config.seed)
            if pretrained { try checkpoint.load(into: body) }
            parameterCount = model.parameterCount
            let trainer = try ORCATrainer(model: model, network: network, train: task.train, test: task.test, batchSize: config.batchSize,
                                          seed: config.seed, source: source, mmd: mmd, communicator: communicator)
            let steps = trainer.sampler.batchCount
            let alignEpochs = variant == .orca ? config.alignmentEpochs : 0
            let alignOptimizer = try GroupedOptimizer([(trainer.embedderRange, try config.alignmentOptimizer.make(
                parameterCount: trainer.embedderRange.count, stepsPerEpoch: steps, epochs: max(alignEpochs, 1)))])
            let trainOptimizer = try config.optimizer.make(parameterCount: model.parameterCount, stepsPerEpoch: steps, epochs: config.epochs)

            // Resume from the variant's checkpoint (rank 0 reads, everyone receives).
            let checkpointURL = run.checkpointsURL.appendingPathComponent("\(variant.rawValue).safetensors")
            var done = (align: 0, train: 0)
            var problem = [""]
            if root, options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
                do {
                    let cp = try Checkpoint.read(from: checkpointURL)
                    let inAlign = cp.metadata["stage"] == "align"
                    guard (0...(inAlign ? alignEpochs : config.epochs)).contains(cp.step) else {
                        throw ORCAInputError("\(checkpointURL.lastPathComponent) is at epoch \(cp.step), outside the run's epochs")
                    }
                    try cp.restore(into: model, optimizer: inAlign ? alignOptimizer : trainOptimizer)
                    done = inAlign ? (cp.step, 0) : (alignEpochs, cp.step)
                } catch { problem = ["\(error)"] }
            }
            if communicator.size > 1 {
                problem = try communicator.broadcast(message: root ? problem : nil, root: 0)
                var state: [Double] = [Double(done.align), Double(done.train), Double(alignOptimizer.stepCount), Double(trainOptimizer.stepCount)]
                try communicator.broadcast(&state, root: 0)
                done = (Int(state[0]), Int(state[1]))
                try communicator.broadcast(model.parameters.flat, root: 0)
                for entry in alignOptimizer.state { try communicator.broadcast(entry.buffer.flat, root: 0) }
                for entry in trainOptimizer.state { try communicator.broadcast(entry.buffer.flat, root: 0) }
                alignOptimizer.stepCount = Int(state[2])
                trainOptimizer.stepCount = Int(state[3])
            }
            guard problem[0].isEmpty else { throw ORCAInputError("cannot resume \(variant.rawValue): \(problem[0])") }
            if (done.align > 0 || done.train > 0), root { log("\(variant.rawValue): resuming after \(done.align) alignment and \(done.train) training epochs") }

            let name = variant.rawValue
            func event(_ kind: String, _ fields: [(String, JSONValue)]) throws {
                try journal?.append(.object([("event", .string(kind)), ("variant", .string(name))] + fields))
            }
            var initial = journal?.select(name, "distance").first?["mmd"]?.doubleValue
            if initial == nil {
                let d = trainer.alignmentDistance()
                initial = d
                try event("distance", [("mmd", .number(d))])
            }
            var alignCurve: [(mmd: Double, distance: Double)] = (journal?.select(name, "align") ?? []).map {
                (mmd: $0["mmd"]?.doubleValue ?? .nan, distance: $0["distance"]?.doubleValue ?? .nan)
            }
            var curve: [(trainLoss: Double, testMetric: Double)] = (journal?.select(name, "epoch") ?? []).map {
                (trainLoss: $0["train_loss"]?.doubleValue ?? .nan, testMetric: $0["test"]?.doubleValue ?? .nan)
            }
            var alignSeconds = (journal?.select(name, "align") ?? []).reduce(0) { $0 + ($1["seconds"]?.doubleValue ?? 0) }
            var trainSeconds = (journal?.select(name, "epoch") ?? []).reduce(0) { $0 + ($1["seconds"]?.doubleValue ?? 0) }
            let stopped = Outcome(runDirectory: run.url, config: config, results: results, parameters: parameterCount, finished: false)

            // Stage 1: the embedder alone.
            for epoch in done.align..<alignEpochs {
                guard budget > 0 else { return stopped }
                budget -= 1
                let t0 = DispatchTime.now().uptimeNanoseconds
                let m = try trainer.alignEpoch(epoch, optimizer: alignOptimizer)
                let s = seconds(since: t0)
                let distance = trainer.alignmentDistance()
                alignCurve.append((m, distance))
                alignSeconds += s
                if root {
                    try event("align", [("epoch", .int(epoch + 1)), ("mmd", .number(m)), ("distance", .number(distance)), ("seconds", .number(s))])
                    try Checkpoint(model: model, optimizer: alignOptimizer, step: epoch + 1, metadata: ["variant": name, "stage": "align"]).write(to: checkpointURL)
                    log(String(format: "%@ align %d/%d: batch MMD² %.5f, MMD² to text %.5f (%.1f s)", name, epoch + 1, alignEpochs, m, distance, s))
                }
            }
            let aligned = alignCurve.last?.distance ?? initial!

            // Stage 2: everything, on the task.
            for epoch in done.train..<config.epochs {
                guard budget > 0 else { return stopped }
                budget -= 1
                let t0 = DispatchTime.now().uptimeNanoseconds
                let loss = try trainer.trainEpoch(epoch, optimizer: trainOptimizer)
                let s = seconds(since: t0)
                let metric = try trainer.evaluate()
                curve.append((loss, metric))
                trainSeconds += s
                if root {
                    try event("epoch", [("epoch", .int(epoch + 1)), ("train_loss", .number(loss)), ("test", .number(metric)), ("seconds", .number(s))])
                    try Checkpoint(model: model, optimizer: trainOptimizer, step: epoch + 1, metadata: ["variant": name, "stage": "train"]).write(to: checkpointURL)
                    log(String(format: "%@ epoch %d/%d: train loss %.4f, test %@ %.4f (%.1f s)", name, epoch + 1, config.epochs, loss, config.metric, metric, s))
                }
            }
            results.append(VariantResult(variant: variant, testMetric: curve.last?.1 ?? .nan, initialDistance: initial!, alignedDistance: aligned,
                                         alignCurve: alignCurve, curve: curve, alignSeconds: alignSeconds, trainSeconds: trainSeconds))
        }

        // 5. The summary.
        if root {
            try AtomicFile.write(summary(config, ranks: communicator.size, parameters: parameterCount, results: results), to: run.file("summary.json"))
            try AtomicFile.write(.object([("ranks", .int(communicator.size)),
                                          ("seconds", .object(results.map { ($0.variant.rawValue, .object([("align", .number($0.alignSeconds)), ("train", .number($0.trainSeconds))])) }))]),
                                 to: run.file("timing.json"))
        }
        return Outcome(runDirectory: run.url, config: config, results: results, parameters: parameterCount, finished: true)
    }

    // MARK: Steps

    static func summary(_ config: ORCAConfig, ranks: Int, parameters: Int, results: [VariantResult]) -> JSONValue {
        .object([
            ("task", .string(config.task == .tabular ? config.dataset : "burgers")), ("metric", .string(config.metric)),
            ("seed", .int(Int(config.seed))), ("ranks", .int(ranks)), ("body_layers", .int(config.bodyLayers)),
            ("alignment_epochs", .int(config.alignmentEpochs)), ("epochs", .int(config.epochs)), ("parameters", .int(parameters)),
            ("results", .object(results.map { ($0.variant.rawValue, .number($0.testMetric)) })),
            ("alignment", .object(results.map { r in
                (r.variant.rawValue, .object([("initial_mmd", .number(r.initialDistance)), ("final_mmd", .number(r.alignedDistance))]))
            })),
            ("curves", .object(results.map { r in
                (r.variant.rawValue, .object([("align_mmd", .array(r.alignCurve.map { .number($0.distance) })),
                                              ("train_loss", .array(r.curve.map { .number($0.trainLoss) })),
                                              ("test", .array(r.curve.map { .number($0.testMetric) }))]))
            })),
        ])
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
