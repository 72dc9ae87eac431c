import CohortCluster
import CohortData
import CohortFiles
import CohortTensor
import CohortTrain
import Foundation

/// `cohort meta` as a library call: every rank calls it with the same options.
///
/// 1. Rank 0 reads the config (from `--config` with the flags' changes, or the run
///    directory's copy on `--resume`), creates or locks the run directory, and
///    broadcasts the config text (or the error) so every rank parses the same document.
/// 2. Every rank reads Omniglot and holds out `test_characters` characters (all their
///    rotations), chosen by `data_seed` alone.
/// 3. The ranks meta-train for `training.steps` meta-iterations (see `MetaTrainer`).
///    Every `log_every` iterations rank 0 journals the mean query loss and accuracy
///    (`events.jsonl`); every `checkpoint_every` and at the end it checkpoints weights,
///    outer optimizer and remembered selections (`checkpoints/meta.safetensors`).
/// 4. On `--resume` training continues from the checkpoint; journal lines past it are
///    dropped and recomputed (the iterations are deterministic, so they come out equal).
/// 5. Meta-test on the held-out characters for each shot count and selection, then on
///    Lake's one-shot runs; rank 0 writes `summary.json` (byte-identical for one seed
///    and rank count, however often the run was stopped) and `timing.json`.
public enum MetaRun {
    public struct Options: Sendable {
        public var configPath: String?
        public var out: String?
        public var resume = false
        /// Stop (as if killed) after this many meta-iterations in this process.
        public var stopAfterSteps: Int?
        /// Changes to the config from flags (a new run only).
        public var overrides: [(path: [String], value: JSONValue)] = []

        public init(configPath: String? = nil, out: String? = nil, resume: Bool = false, stopAfterSteps: Int? = nil,
                    overrides: [(path: [String], value: JSONValue)] = []) {
            self.configPath = configPath
            self.out = out
            self.resume = resume
            self.stopAfterSteps = stopAfterSteps
            self.overrides = overrides
        }
    }

    public struct Outcome: Sendable {
        public var runDirectory: URL
        public var config: MetaConfig
        public var scores: [MetaEvaluation.Score]
        public var finished: Bool
        public var trainCharacters = 0, testCharacters = 0
        public var tasks: Int?
        public var secondsPerStep = 0.0
    }

    public static func run(_ options: Options, communicator: Communicator, log: @escaping (String) -> Void = { _ in }) throws -> Outcome {
        let root = communicator.rank == 0
        // 1. The config and the run directory.
        if options.resume, !options.overrides.isEmpty {
            throw MetaInputError("--resume continues a run as it was configured; drop the flags that change it")
        }
        let opened = try SharedRunDirectory.open(
            configPath: options.configPath, out: options.out, resume: options.resume, communicator: communicator,
            prepare: { try prepare(configPath: $0, overrides: options.overrides) }, inputError: { MetaInputError($0) })
        defer { withExtendedLifetime(opened) {} }
        let config = try MetaConfig.parse(opened.configText, defaultName: "meta")
        let run = opened.run

        // 2. Data.
        let started = DispatchTime.now().uptimeNanoseconds
        let (trainPool, testPool) = try pools(config)
        try config.validate(trainPool: trainPool, testPool: testPool)
        let budget = try config.supervisionBudget()
        if root {
            log("data: \(trainPool.members.count) meta-train / \(testPool.members.count) meta-test characters x \(trainPool.rotations) rotations in \(seconds(since: started)) s; "
                + (budget.taskCount.map { "budget \(budget.total!) labels = \($0) tasks of \(budget.labelsPerTask)" } ?? "all labels"))
        }

        // 3-4. Meta-training.
        let learner = try makeLearner(config, ways: config.ways)
        let optimizer = try config.optimizer.make(parameterCount: learner.model.parameterCount, stepsPerEpoch: 1, epochs: config.steps)
        let trainer = try MetaTrainer(learner: learner, optimizer: optimizer, pool: trainPool, config: config, communicator: communicator)
        let checkpointURL = run.checkpointsURL.appendingPathComponent("meta.safetensors")
        var first = 0
        var restored = [""]
        if root, options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            do {
                let checkpoint = try Checkpoint.read(from: checkpointURL)
                guard (0...config.steps).contains(checkpoint.step) else {
                    throw MetaInputError("checkpoint is at meta-iteration \(checkpoint.step), outside 0...\(config.steps)")
                }
                try checkpoint.restore(into: learner.model, optimizer: optimizer)
                try trainer.restoreChoices(checkpoint.metadata["selections"] ?? "")
                first = checkpoint.step
                restored = ["", trainer.encodedChoices]
            } catch { restored = ["cannot resume: \(error)"] }
        }
        if communicator.size > 1 {
            restored = try communicator.broadcast(message: root ? restored : nil, root: 0)
            var state = [Double(first)]
            try communicator.broadcast(&state, root: 0)
            first = Int(state[0])
            try communicator.broadcast(learner.model.parameters.flat, root: 0)
            try communicator.broadcast(learner.model.state.flat, root: 0)
            for (_, buffer) in optimizer.state { try communicator.broadcast(buffer.flat, root: 0) }
            optimizer.stepCount = first
            if restored[0].isEmpty && restored.count > 1 { try trainer.restoreChoices(restored[1]) }
        }
        guard restored[0].isEmpty else { throw MetaInputError(restored[0]) }
        let journal = root ? try MetaJournal(run: run, resume: options.resume, through: first) : nil
        if first > 0, root { log("resuming after meta-iteration \(first)") }
        var remaining = options.stopAfterSteps ?? Int.max
        var window = (loss: 0.0, accuracy: 0.0, count: 0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        var trained = 0
        for s in first..<config.steps {
            guard remaining > 0 else {
                return Outcome(runDirectory: run.url, config: config, scores: [], finished: false)
            }
            remaining -= 1
            let r = try trainer.step(s)
            trained += 1
            window = (window.loss + r.loss, window.accuracy + r.accuracy, window.count + 1)
            let done = s + 1
            if done % config.logEvery == 0 || done == config.steps {
                let n = Double(max(window.count, 1))
                try journal?.append(.object([("event", .string("step")), ("step", .int(done)),
                                             ("query_loss", .number(window.loss / n)), ("query_accuracy", .number(window.accuracy / n))]))
                if root { log(String(format: "meta-iteration %d/%d: query loss %.4f, accuracy %.4f", done, config.steps, window.loss / n, window.accuracy / n)) }
                window = (0, 0, 0)
            }
            if root && (done % config.checkpointEvery == 0 || done == config.steps) {
                try Checkpoint(model: learner.model, optimizer: optimizer, step: done,
                               metadata: ["learner": config.learner.rawValue, "selections": trainer.encodedChoices]).write(to: checkpointURL)
            }
        }
        let secondsPerStep = trained > 0 ? seconds(since: t0) / Double(trained) : 0

        // 5. Meta-test.
        let t1 = DispatchTime.now().uptimeNanoseconds
        var scores: [MetaEvaluation.Score] = []
        for selection in config.testSelections {
            for shots in config.testShots {
                let score = try MetaEvaluation.episodes(learner, pool: testPool, config: config, shots: shots, selection: selection, communicator: communicator)
                scores.append(score)
                if root { log(String(format: "%@, %@ support: %.4f +- %.4f over %d episodes", score.name, selection.rawValue, score.mean, score.interval, score.episodes)) }
            }
        }
        if let runs = try oneShotRuns(config) {
            let score = try MetaEvaluation.oneShotRuns(runs, learner: learner, wide: { try widened(learner, ways: $0, config: config) },
                                                       sampleShape: trainPool.dataset.sampleShape, communicator: communicator)
            scores.append(score)
            if root { log(String(format: "%@: %.4f +- %.4f", score.name, score.mean, score.interval)) }
        }
        let evaluationSeconds = seconds(since: t1)
        if root {
            for score in scores {
                try journal?.append(.object([("event", .string("evaluation")), ("name", .string(score.name)), ("selection", .string(score.selection)),
                                             ("accuracy", .number(score.mean)), ("interval", .number(score.interval)), ("episodes", .int(score.episodes))]))
            }
            try AtomicFile.write(summary(config, ranks: communicator.size, budget: budget, trainCharacters: trainPool.members.count,
                                         testCharacters: testPool.members.count, curve: journal?.curve ?? [], scores: scores),
                                 to: run.file("summary.json"))
            try AtomicFile.write(.object([("ranks", .int(communicator.size)), ("seconds_per_step", .number(secondsPerStep)),
                                          ("evaluation_seconds", .number(evaluationSeconds))]), to: run.file("timing.json"))
        }
        var outcome = Outcome(runDirectory: run.url, config: config, scores: scores, finished: true)
        outcome.trainCharacters = trainPool.members.count
        outcome.testCharacters = testPool.members.count
        outcome.tasks = budget.taskCount
        outcome.secondsPerStep = secondsPerStep
        return outcome
    }

    // MARK: Steps

    /// A new run's config text (flags written in, and its name, which the file name gave),
    /// checked against the data before anything is written.
    private static func prepare(configPath: String, overrides: [(path: [String], value: JSONValue)]) throws -> (text: String, name: String) {
        let original = try MetaConfig.load(path: configPath)
        let text = try ConfigDocument.overriding(original.sourceText, overrides)
        let config = try MetaConfig.parse(text, defaultName: original.name)
        let (trainPool, testPool) = try pools(config)
        try config.validate(trainPool: trainPool, testPool: testPool)
        _ = try oneShotRuns(config)
        let named = text.contains("name:") || text.contains("\"name\"") ? text : try ConfigDocument.overriding(text, [(["name"], .string(config.name))])
        return (named, config.name)
    }

    /// Meta-train and meta-test pools: characters split by `data_seed`.
    public static func pools(_ config: MetaConfig) throws -> (train: ClassPool, test: ClassPool) {
        let characters: Dataset
        do {
            characters = try Omniglot.characters(directory: config.directory, splits: config.splits, side: config.side)
        } catch let e as DatasetError { throw MetaInputError(e.description) }
        guard config.testCharacters < characters.classCount else {
            throw MetaInputError("data.test_characters \(config.testCharacters) leaves no meta-training characters (the data has \(characters.classCount))")
        }
        var stream = RandomStream(seed: config.dataSeed, stream: [0x6D65_7461_7370_6C74])
        let order = stream.permutation(characters.classCount)
        let test = order[0..<config.testCharacters].sorted(), train = order[config.testCharacters...].sorted()
        return (ClassPool(dataset: characters, members: train, rotations: config.rotations),
                ClassPool(dataset: characters, members: test, rotations: config.rotations))
    }

    /// Lake's runs when the config asks for them.
    static func oneShotRuns(_ config: MetaConfig) throws -> [Omniglot.OneShotRun]? {
        guard config.oneShotRuns else { return nil }
        do { return try Omniglot.oneShotRuns(directory: config.directory, side: config.side) } catch let e as DatasetError {
            throw MetaInputError("\(e.description) (or set evaluation.one_shot_runs: false)")
        }
    }

    /// The learner of `config` on a conv-4 with a head of `ways` outputs (none for ProtoNets).
    public static func makeLearner(_ config: MetaConfig, ways: Int) throws -> MetaLearner {
        let network = try Conv4(channels: 1, side: config.side, filters: config.filters, ways: config.learner == .protonets ? nil : ways)
        let model = Model(network, seed: config.seed)
        switch config.learner {
        case .protonets: return PrototypicalNetworks(network: network, model: model)
        case .fomaml: return FirstOrderMAML(network: network, model: model, innerSteps: config.innerSteps,
                                            innerLearningRate: config.innerLearningRate, testSteps: config.testSteps)
        case .reptile: return Reptile(network: network, model: model, innerSteps: config.innerSteps,
                                      innerLearningRate: config.innerLearningRate, testSteps: config.testSteps)
        }
    }

    /// A copy of `learner` with a zeroed head of `ways` outputs and the same backbone.
    static func widened(_ learner: MetaLearner, ways: Int, config: MetaConfig) throws -> MetaLearner {
        let wide = try makeLearner(config, ways: ways)
        for entry in wide.model.parameters.entries {
            let target = wide.model.parameters[entry.name]!
            if let source = learner.model.parameters[entry.name], entry.name.hasPrefix("backbone.") {
                _ = target.update(from: source)
            } else {
                target.update(repeating: 0)
            }
        }
        return wide
    }

    static func summary(_ config: MetaConfig, ranks: Int, budget: SupervisionBudget, trainCharacters: Int, testCharacters: Int,
                        curve: [(step: Int, loss: Double, accuracy: Double)], scores: [MetaEvaluation.Score]) -> JSONValue {
        .object([
            ("learner", .string(config.learner.rawValue)), ("seed", .int(Int(config.seed))), ("ranks", .int(ranks)),
            ("ways", .int(config.ways)), ("shots", .int(config.shots)), ("queries", .int(config.queries)),
            ("budget", budget.total.map { .int($0) } ?? .string("all")), ("tasks", budget.taskCount.map { .int($0) } ?? .null),
            ("labels_per_task", .int(budget.labelsPerTask)),
            ("selection", .string(config.trainSelection.rawValue)), ("steps", .int(config.steps)), ("meta_batch", .int(config.metaBatch)),
            ("train_characters", .int(trainCharacters)), ("test_characters", .int(testCharacters)),
            ("results", .array(scores.map { s in
                .object([("name", .string(s.name)), ("ways", .int(s.ways)), ("shots", .int(s.shots)), ("selection", .string(s.selection)),
                         ("episodes", .int(s.episodes)), ("accuracy", .number(s.mean)), ("interval", .number(s.interval))])
            })),
            ("curve", .object([("step", .array(curve.map { .int($0.step) })), ("query_loss", .array(curve.map { .number($0.loss) })),
                               ("query_accuracy", .array(curve.map { .number($0.accuracy) }))])),
        ])
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// The run's journal (rank 0): step events appended line by line; on resume, lines past
/// the checkpoint (and evaluation lines) are dropped first.
final class MetaJournal {
    private let writer: JournalWriter
    private(set) var curve: [(step: Int, loss: Double, accuracy: Double)] = []

    init(run: RunDirectory, resume: Bool, through last: Int) throws {
        if resume, let data = FileManager.default.contents(atPath: run.journalURL.path) {
            let kept = try JSONLines.parse(data).values.filter { e in
                e["event"]?.stringValue == "step" && (e["step"]?.intValue ?? .max) <= last
            }
            curve = kept.map { ($0["step"]?.intValue ?? 0, $0["query_loss"]?.doubleValue ?? .nan, $0["query_accuracy"]?.doubleValue ?? .nan) }
            try AtomicFile.write(kept.map { $0.description + "\n" }.joined(), to: run.journalURL)
        }
        writer = try JournalWriter(url: run.journalURL, durability: .written)
    }

    func append(_ event: JSONValue) throws {
        try writer.append(event)
        if event["event"]?.stringValue == "step" {
            curve.append((event["step"]?.intValue ?? 0, event["query_loss"]?.doubleValue ?? .nan, event["query_accuracy"]?.doubleValue ?? .nan))
        }
    }
}
