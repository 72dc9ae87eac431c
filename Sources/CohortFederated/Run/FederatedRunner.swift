import CohortFiles
import CohortCluster
import CohortTune
import Foundation

/// What `cohort fed` was asked to do.
public struct FedOptions: Sendable {
    public var configPath: String?
    public var out: String?
    public var resume: Bool
    /// fsync every journal line (default) or only write it.
    public var syncJournal: Bool
    /// Stop after this many rounds have run in this invocation, as a kill at a round
    /// boundary would; `nil` runs to the end. For tests of `--resume`.
    public var roundLimit: Int?

    public init(configPath: String? = nil, out: String? = nil, resume: Bool = false, syncJournal: Bool = true,
                roundLimit: Int? = nil) {
        self.configPath = configPath
        self.out = out
        self.resume = resume
        self.syncJournal = syncJournal
        self.roundLimit = roundLimit
    }
}

/// One arm's score at the end of one of its rungs.
public struct ArmResult: Codable, Equatable, Sendable {
    public var arm: Int
    public var rung: Int
    public var rounds: Int
    /// Validation error of the global model (test error when there is no validation
    /// data), or of the fine-tuned models with `evaluation.fine_tune`.
    public var metric: Double
    public var testAccuracy: Double
    public var validationAccuracy: Double?
    public var heldOutAccuracy: Double?
    /// The same three scores after fine-tuning on every client (`evaluation.fine_tune`).
    public var tunedTestAccuracy: Double?
    public var tunedValidationAccuracy: Double?
    public var tunedHeldOutAccuracy: Double?
}

/// What a run reports back (the same on every rank).
public struct FedOutcome: Sendable {
    public var runDirectory: URL
    /// False when the run stopped at `roundLimit` before its end.
    public var finished: Bool
    /// Every arm result in the order they were recorded.
    public var results: [ArmResult]
    /// The best arm among those that reached the most rounds.
    public var best: ArmResult?
    /// The global model of the last arm that ran (for tests and checks).
    public var lastGlobalModel: [Float]
}

/// The library entry point of `cohort fed`: a whole run on a communicator (every rank
/// calls it), with its run directory, journal, checkpoints and outer search.
///
/// 1. Rank 0 reads the config (from `--config`, or the run directory on `--resume`) and
///    checks the run directory; the verdict goes to every rank, so an error is raised
///    identically everywhere.
/// 2. Every rank builds the federation and the model (identically; errors are uniform).
/// 3. Rank 0 creates the run directory, or reads the journal and the checkpoints of a run
///    to resume, keeps only the events the checkpoints cover, and broadcasts the results
///    already recorded.
/// 4. Every rank drives the same outer scheduler (random search or successive halving
///    over arms; one arm without `search:`). Recorded results are replayed; other jobs
///    run their rounds on all ranks, continuing an arm from its checkpoint. After every
///    round rank 0 appends the round's line to the journal, then writes the arm's
///    checkpoint.
public enum FederatedRunner {
    /// Runs (or resumes) a federated run. `log` receives progress lines on rank 0.
    public static func run(_ options: FedOptions, communicator comm: Communicator,
                           catalog: FederatedModelCatalog = .standard,
                           log: @escaping (String) -> Void = { _ in }) throws -> FedOutcome {
        // 1. The config and the directory, decided by rank 0.
        var prepared: Prepared?
        var failure: String?
        if comm.rank == 0 {
            do { prepared = try prepare(options) } catch { failure = "\(error)" }
        }
        let verdict = try comm.broadcast(message: comm.rank == 0 ? Verdict(prepared: prepared, failure: failure) : nil, root: 0)
        if let failure = verdict.failure { throw RunFailure(message: failure) }
        guard let ready = verdict.prepared else { throw RunFailure(message: "the run could not be prepared") }
        let config = try FedConfig.parse(ready.configText, source: "config.yaml", defaultName: ready.name)
        let directory = RunDirectory(path: ready.directory)

        // 2. Data and model on every rank.
        let data = try config.data.load()
        let factory = try catalog.factory(for: config.model)
        let model = try factory.makeModel(sampleShape: data.sampleShape, classCount: data.classCount, run: directory, rank: comm.rank)
        try config.settings(arm: 0, searchConfig: nil).validate(for: data)
        if config.search != nil, data.clients.allSatisfy({ $0.validation.count == 0 }) {
            throw FederatedError.invalidValue(field: "search", message: "scores arms on validation samples, but no client has any; set data.validation_fraction")
        }

        // 3. The run directory: created, or read back for resuming.
        var replay: Replay?
        var runLock: RunLock?
        failure = nil
        if comm.rank == 0 {
            do {
                if ready.resume {
                    runLock = try directory.lock()
                    replay = try readReplay(directory, config: config)
                } else {
                    (replay, runLock) = try start(directory, config: config, data: data, parameters: model.parameters.count,
                                                  ranks: comm.size, model: factory.name)
                }
            } catch { failure = "\(error)" }
        }
        let second = try comm.broadcast(message: comm.rank == 0 ? ReplayVerdict(replay: replay, failure: failure) : nil, root: 0)
        if let failure = second.failure { throw RunFailure(message: failure) }
        guard let history = second.replay else { throw RunFailure(message: "the run directory could not be read") }

        // 4. The arms.
        var engine = ArmRunner(comm: comm, config: config, data: data, model: model, directory: directory,
                               history: history, options: options, log: log)
        return try withExtendedLifetime(runLock) { try engine.run() }
    }

    // MARK: Step 1 (rank 0)

    struct Prepared: Codable {
        var configText: String
        var name: String
        var directory: String
        var resume: Bool
    }

    struct Verdict: Codable {
        var prepared: Prepared?
        var failure: String?
    }

    private static func prepare(_ options: FedOptions) throws -> Prepared {
        if options.resume {
            guard let out = options.out else {
                throw FederatedError.invalidValue(field: "--resume", message: "needs --out DIR, the run directory to continue")
            }
            let directory = RunDirectory(path: out)
            let text = try directory.configTextForResume()
            let config = try FedConfig.parse(text, source: "\(out)/config.yaml")
            return Prepared(configText: text, name: config.name, directory: directory.url.path, resume: true)
        }
        guard let path = options.configPath else {
            throw FederatedError.invalidValue(field: "--config", message: "is required (or --resume --out DIR)")
        }
        let config = try FedConfig.load(path: path)
        let directory = RunDirectory(path: options.out ?? "runs/\(config.name)")
        try directory.requireFresh()
        return Prepared(configText: config.sourceText, name: config.name, directory: directory.url.path, resume: false)
    }

    // MARK: Step 3 (rank 0)

    /// What an earlier part of the run recorded.
    struct Replay: Codable {
        var results: [ArmResult] = []
        var announcedArms: [Int] = []
        var timeOffset: Double = 0
        var finished = false
    }

    struct ReplayVerdict: Codable {
        var replay: Replay?
        var failure: String?
    }

    private static func start(_ directory: RunDirectory, config: FedConfig, data: FederatedDataset, parameters: Int,
                              ranks: Int, model: String) throws -> (Replay, RunLock) {
        let lock = try directory.create(configText: config.sourceText)
        let journal = try RunJournal.open(url: directory.journalURL, sync: true)
        try journal.append(RunEvent.start(config: config, data: data, parameters: parameters, ranks: ranks, model: model))
        return (Replay(), lock)
    }

    /// Reads the journal and the checkpoints; keeps the events the checkpoints cover
    /// (rounds past an arm's checkpoint are run again, identically) and rewrites the
    /// journal to them.
    private static func readReplay(_ directory: RunDirectory, config: FedConfig) throws -> Replay {
        let events = try RunJournal.read(url: directory.journalURL)
        var replay = Replay()
        var checkpointRounds: [Int: Int] = [:]
        func covered(_ arm: Int) throws -> Int {
            if let c = checkpointRounds[arm] { return c }
            let url = directory.checkpoint(arm: arm)
            var c = 0
            if FileManager.default.fileExists(atPath: url.path) {
                let settings = try config.settings(arm: arm, searchConfig: nil).server
                c = try RoundCheckpoint.read(from: url, settings: settings).state.completedRounds
            }
            checkpointRounds[arm] = c
            return c
        }
        var kept: [JSONValue] = []
        for event in events {
            if let t = event[FederatedEvent.Key.time]?.doubleValue { replay.timeOffset = max(replay.timeOffset, t) }
            switch FederatedEvent(json: event) {
            case let .round(r):
                if r.round <= (try covered(r.arm)) { kept.append(event) }
            case let .result(r):
                guard let arm = r.arm, let rounds = r.rounds, let rung = r.rung else { continue }
                guard rounds <= (try covered(arm)) else { continue }
                kept.append(event)
                replay.results.append(ArmResult(
                    arm: arm, rung: rung, rounds: rounds, metric: r.metric ?? .infinity, testAccuracy: r.testAccuracy ?? 0,
                    validationAccuracy: r.validationAccuracy, heldOutAccuracy: r.heldOutAccuracy,
                    tunedTestAccuracy: r.tunedTestAccuracy, tunedValidationAccuracy: r.tunedValidationAccuracy,
                    tunedHeldOutAccuracy: r.tunedHeldOutAccuracy))
            case let .arm(a):
                replay.announcedArms.append(a.arm)
                kept.append(event)
            case .end:
                replay.finished = true
                kept.append(event)
            case .start, .other:
                kept.append(event)
            }
        }
        if !replay.finished { try RunJournal.rewrite(url: directory.journalURL, events: kept) }
        return replay
    }
}

/// An error raised identically on every rank from rank 0's verdict.
struct RunFailure: UniformError {
    var message: String
    var description: String { message }
}
