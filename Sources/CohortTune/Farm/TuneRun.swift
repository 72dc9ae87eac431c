import CohortFiles
import Foundation
import CohortCluster

/// What `cohort tune` was asked to do.
public struct TuneOptions: Sendable {
    public var configPath: String?
    public var out: String?
    public var resume = false
    /// In-process workers when not under mpirun.
    public var workers: Int?
    public var progress = true
    /// fsync the journal before every action (default; one fsync covers every event
    /// since the last action) or only write it.
    public var syncJournal = true
    /// Run on a simulated cluster instead of real workers.
    public var simulation: SimulationOptions?
    /// Called with rank 0's outcome when some workers may still be training (lost, or
    /// busy past a stop's grace), which the run cannot wait for: the command line
    /// prints the outcome and ends the job. Without it the run waits for them.
    public var whenWorkersUnfinished: (@Sendable (TuneOutcome) -> Void)?

    var journalDurability: JournalWriter.Durability { syncJournal ? .grouped : .written }

    public init(configPath: String? = nil, out: String? = nil, resume: Bool = false, workers: Int? = nil,
                progress: Bool = true, syncJournal: Bool = true, simulation: SimulationOptions? = nil) {
        self.configPath = configPath
        self.out = out
        self.resume = resume
        self.workers = workers
        self.progress = progress
        self.syncJournal = syncJournal
        self.simulation = simulation
    }
}

/// What a finished run reports back (rank 0; workers get `nil`).
public struct TuneOutcome: Sendable {
    public var runDirectory: URL
    public var end: JournalEvent.End
    public var best: BestTrial?
    public var busyFraction: [Int: Double]
    public var summary: String
    /// What the simulated cluster did, for a simulated run.
    public var simulation: SimulatedCluster.Outcome?
    /// Set when a signal stopped the run before its end: the signal's name.
    public var stoppedBy: String?
    /// Worker ranks that may still be training (lost, or busy when a stop's grace ran
    /// out): the job has to be ended with `MPI_Abort` for mpirun to return.
    public var unfinishedWorkers: [Int] = []
    /// True when `--resume` found the run already finished and changed nothing.
    public var wasFinished = false

    /// The command that continues this run.
    public var resumeCommand: String { "cohort tune --resume --out \(runDirectory.path)" }
}

/// The best configuration found, as written to `best.json`.
public struct BestTrial: Sendable {
    public var trial: Int
    public var config: TrialConfig
    public var metric: Double
    public var rung: Int
    public var resource: Double
    public var testMetric: Double?

    /// The keys of `best.json`.
    public enum Key {
        public static let trial = "trial", config = "config", metric = "metric", rung = "rung", resource = "resource"
        public static let testMetric = "test_metric"
    }

    public var json: JSONValue {
        .object([(Key.trial, .int(trial)), (Key.config, config.json), (Key.metric, .double(metric)), (Key.rung, .int(rung)),
                 (Key.resource, .number(resource)), (Key.testMetric, testMetric.map(JSONValue.double) ?? .null)])
    }

    /// `best.json` read back without the run's search space: the configuration stays
    /// as written. Tolerant: a field the file lacks reads as `nil` (or no values).
    public struct Record: Sendable {
        public var trial: Int?
        /// The configuration's values as written; `nil` when the file has none.
        public var config: [(key: String, value: JSONValue)]?
        public var metric: Double?
        public var rung: Int?
        public var resource: Double?
        public var testMetric: Double?

        public init(json: JSONValue) {
            trial = json[Key.trial]?.intValue
            config = json[Key.config]?.objectMembers
            metric = json[Key.metric]?.doubleValue
            rung = json[Key.rung]?.intValue
            resource = json[Key.resource]?.doubleValue
            testMetric = json[Key.testMetric]?.doubleValue
        }
    }
}

/// The library entry point of `cohort tune`.
public enum TuneRunner {
    /// Everything rank 0 checks before anything is written.
    struct Prepared {
        var config: TuneConfig
        var run: RunDirectory
        var replay: FarmCoordinator.Replay?
        var journalLength: UInt64?
        /// A resumed run's lock, taken before its journal is read.
        var lock: RunLock?
    }

    /// Runs a search: under mpirun on the MPI world, otherwise on `--workers` K
    /// in-process workers plus a coordinator thread. Returns rank 0's outcome.
    public static func run(_ options: TuneOptions, catalog: TrainableCatalog = .standard,
                           log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> TuneOutcome? {
        if let simulation = options.simulation {
            return try simulate(options, simulation, catalog: catalog)
        }
        StopRequest.install()
        if Cluster.isUnderMPI {
            if options.workers != nil {
                throw TuneInputError("--workers is for runs without mpirun; under mpirun, -np N gives N-1 workers")
            }
            let comm = try Cluster.world()
            defer { Cluster.finalize() }
            // Rank 0 validates; the verdict is broadcast so every rank exits the same way.
            var prepared: Prepared?
            var failure: String?
            if comm.rank == 0 {
                if comm.size < 2 {
                    failure = "cohort tune needs at least 2 ranks under mpirun (1 coordinator + workers), got 1; use mpirun -np N with N >= 2, or run without mpirun and --workers K"
                } else {
                    do { prepared = try prepare(options, catalog: catalog) } catch { failure = "\(error)" }
                    if let prepared { failure = TrainingGroups.problem(workers: comm.size - 1, ranksPerTrial: prepared.config.farm.ranksPerTrial) }
                }
            }
            let verdict: [String] = try comm.broadcast(message: comm.rank == 0 ? [failure == nil ? "ok" : "error", failure ?? "",
                                                                                  prepared?.config.sourceText ?? "", prepared?.run.url.path ?? ""] : nil,
                                                       root: 0)
            guard verdict[0] == "ok" else { throw TuneInputError(verdict[1]) }
            let outcome = try runRank(comm: comm, prepared: prepared, configText: verdict[2], runPath: verdict[3], options: options, catalog: catalog, log: log)
            // Before MPI_Finalize, which would wait for those workers forever.
            if let outcome, !outcome.unfinishedWorkers.isEmpty { options.whenWorkersUnfinished?(outcome) }
            return outcome
        }
        let workers = options.workers ?? 2
        guard workers >= 1 && workers <= 256 else { throw TuneInputError("--workers must be from 1 to 256 (each is a thread of this process; use mpirun for more), got \(workers)") }
        let prepared: Prepared
        do { prepared = try prepare(options, catalog: catalog) } catch { throw TuneInputError("\(error)") }
        if let problem = TrainingGroups.problem(workers: workers, ranksPerTrial: prepared.config.farm.ranksPerTrial, underMPI: false) {
            throw TuneInputError(problem)
        }
        let box = OutcomeBox()
        try LocalCommunicator.run(ranks: workers + 1) { comm in
            let outcome = try runRank(comm: comm, prepared: comm.rank == 0 ? prepared : nil, configText: prepared.config.sourceText,
                                      runPath: prepared.run.url.path, options: options, catalog: catalog, log: log)
            if let outcome {
                box.set(outcome)
                if !outcome.unfinishedWorkers.isEmpty { options.whenWorkersUnfinished?(outcome) }
            }
        }
        return box.value
    }

    /// Bad input (config, command line, run directory, rank count), raised
    /// identically on every rank so that it is reported once.
    public struct TuneInputError: UniformError {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: TuneOutcome?
        func set(_ v: TuneOutcome) { lock.lock(); stored = v; lock.unlock() }
        var value: TuneOutcome? { lock.lock(); defer { lock.unlock() }; return stored }
    }

    // MARK: Preparation (rank 0, writes nothing)

    static func prepare(_ options: TuneOptions, catalog: TrainableCatalog) throws -> Prepared {
        if options.resume {
            guard let out = options.out else { throw TuneError.io("--resume needs --out DIR, the run directory to continue") }
            let run = RunDirectory(URL(fileURLWithPath: out))
            let configText = try run.configTextForResume()
            let lock = try run.lock()
            let config = try TuneConfig.parse(configText, source: run.configURL.path, catalog: catalog)
            if let path = options.configPath {
                let given = try TuneConfig.load(contentsOf: URL(fileURLWithPath: path), catalog: catalog)
                if given.sourceText != config.sourceText {
                    throw TuneError.io("--config \(path) differs from \(run.configURL.path), the config this run started with; resume without --config")
                }
            }
            let contents = try JournalContents.read(url: run.journalURL, space: config.space)
            let replay = try FarmCoordinator.replay(contents.events, scheduler: config.makeScheduler(), mode: config.mode, target: config.stopTarget)
            return Prepared(config: config, run: run, replay: replay, journalLength: contents.validLength, lock: lock)
        }
        guard let path = options.configPath else { throw TuneError.io("say which search to run with --config FILE (or --resume --out DIR)") }
        let config = try TuneConfig.load(contentsOf: URL(fileURLWithPath: path), catalog: catalog)
        let run = RunDirectory(URL(fileURLWithPath: options.out ?? "runs/\(config.name)"))
        try run.requireFresh()
        return Prepared(config: config, run: run, replay: nil, journalLength: nil)
    }

    // MARK: One rank

    static func runRank(comm: Communicator, prepared: Prepared?, configText: String, runPath: String,
                        options: TuneOptions, catalog: TrainableCatalog, log: @escaping @Sendable (String) -> Void) throws -> TuneOutcome? {
        let run = RunDirectory(URL(fileURLWithPath: runPath))
        guard comm.rank == 0, let prepared else {
            let config = try TuneConfig.parse(configText, catalog: catalog)
            let placement = try config.farm.devices.assignments(comm: comm)
            let groups = try TrainingGroups(hosts: placement.map(\.host), ranksPerTrial: config.farm.ranksPerTrial)
            let group = try groups.split(comm)
            try JobFarm.work(comm: comm, space: config.space, factory: try config.makeTrainableFactory(catalog: catalog), run: run,
                             deviceEnvironment: DevicePlacement.environment(placement[comm.rank].devices), group: group)
            return nil
        }
        let config = prepared.config
        let placement = try config.farm.devices.assignments(comm: comm)
        let groups = try TrainingGroups(hosts: placement.map(\.host), ranksPerTrial: config.farm.ranksPerTrial)
        _ = try groups.split(comm)
        let workers = groups.leaders
        let journal: JournalWriter
        var coordinator: FarmCoordinator
        var offset = 0.0
        let runLock: RunLock
        if let replay = prepared.replay, let lock = prepared.lock {
            runLock = lock
            if replay.ended && replay.interrupted.isEmpty {
                return try finishedRun(run, config: config, replay: replay, comm: comm, workers: workers, catalog: catalog, log: log)
            }
            journal = try JournalWriter(url: run.journalURL, durability: options.journalDurability, truncatingTo: prepared.journalLength)
            coordinator = replay.coordinator
            offset = replay.lastTime
            if prepared.journalLength == 0 {
                // Created and killed before its first line: start it now.
                try journal.append(runEvent(config, workers: workers.count, catalog: catalog))
            } else {
                try journal.append(.resume(time: offset, requeued: replay.interrupted.count))
            }
            let poisoned = replay.poisoned(limit: config.farm.maxCrashes)
            for p in poisoned {
                let reason = "crashed its worker \(p.deaths == 2 ? "twice" : "\(p.deaths) times") (in flight each time the run died); given up so the search goes on"
                if let event = try coordinator.abandon(p.job, worker: p.worker, reason: reason, now: offset) { try journal.append(event) }
                log("trial \(p.job.trial) rung \(p.job.rung) \(reason)")
            }
            log("resuming \(run.url.path) at t=\(String(format: "%.1f", offset)) s: \(coordinator.results) results kept, \(replay.interrupted.count - poisoned.count) interrupted jobs to run again")
        } else {
            runLock = try run.create(configText: config.sourceText)
            journal = try JournalWriter(url: run.journalURL, durability: options.journalDurability)
            coordinator = config.makeCoordinator()
            try journal.append(runEvent(config, workers: workers.count, catalog: catalog))
        }
        if config.farm.affinity, let factory = try? config.makeTrainableFactory(catalog: catalog),
           !factory.reuseKeys(for: config.space.sample(trial: 0, seed: config.seed)).isEmpty {
            coordinator.affinity = PrefixAffinity(keys: { factory.reuseKeys(for: $0) })
        }
        let loop = FarmCoordinatorLoop(coordinator: coordinator, comm: comm, journal: journal, space: config.space,
                                       jobTimeout: config.jobTimeout, timeOffset: offset, workers: workers)
        loop.stopGrace = config.farm.stopGrace
        let progress = ProgressLine(config: config)
        if options.progress { loop.onTick = { c, now in log(progress.line(c, now: now)) } }
        let lastEvent = try withExtendedLifetime(runLock) { try loop.run() }
        coordinator = loop.coordinator
        let session = Swift.max(loop.sessionSeconds, 1e-9)
        var busy: [Int: Double] = [:]
        for w in workers { busy[w] = Swift.min(1, (loop.sessionBusy[w] ?? 0) / session) }
        let unfinished = loop.unfinishedWorkers.sorted()

        if case let .stop(time, signal, inFlight) = lastEvent {
            var outcome = TuneOutcome(runDirectory: run.url, end: coordinator.endRecord(now: time, reason: "stopped by \(signal)"),
                                      best: nil, busyFraction: busy, summary: "", simulation: nil)
            outcome.stoppedBy = signal
            outcome.unfinishedWorkers = unfinished
            outcome.summary = "stopped by \(signal) at t=\(String(format: "%.1f", time)) s: \(coordinator.results) results journaled"
                + (inFlight > 0 ? ", \(inFlight) jobs still in flight will run again" : "") + "; resume with: \(outcome.resumeCommand)"
            return outcome
        }
        guard case let .end(end) = lastEvent else { return nil }
        let best = try writeBest(run, config: config, coordinator: coordinator, catalog: catalog)
        let summary = Summary.render(config: config, coordinator: coordinator, best: best, busy: busy, end: end, lost: loop.lostWorkers)
        var outcome = TuneOutcome(runDirectory: run.url, end: end, best: best, busyFraction: busy, summary: summary, simulation: nil)
        outcome.unfinishedWorkers = unfinished
        return outcome
    }

    static func runEvent(_ config: TuneConfig, workers: Int, catalog: TrainableCatalog) -> JournalEvent {
        let record = (try? config.makeTrainableFactory(catalog: catalog))?.runRecord()
        return .run(.init(name: config.name, scheduler: config.scheduler.kind.rawValue, seed: config.seed, workers: workers, time: 0,
                          trainable: record))
    }

    /// `best.json`, with the test metric of the best configuration; nil when no
    /// result succeeded.
    static func writeBest(_ run: RunDirectory, config: TuneConfig, coordinator: FarmCoordinator, catalog: TrainableCatalog) throws -> BestTrial? {
        guard let b = coordinator.best else { return nil }
        // Configurations are a pure function of (seed, trial id).
        let cfg = config.space.sample(trial: b.trial, seed: config.seed)
        var test: Double?
        let job = Job(trial: b.trial, config: cfg, rung: b.rung, resource: b.resource)
        var record = JobContext(job: job, run: run, worker: 0)
        record.recordOnly = true
        if let t = try? config.makeTrainableFactory(catalog: catalog).make(for: record) {
            if (try? t.restore(from: run.checkpoint(trial: b.trial, resource: b.resource), resource: b.resource)) != nil {
                test = (try? t.testMetric()) ?? nil
            }
        }
        let found = BestTrial(trial: b.trial, config: cfg, metric: b.metric, rung: b.rung, resource: b.resource, testMetric: test)
        try AtomicFile.write(found.json, to: run.bestURL)
        return found
    }

    /// `--resume` of a run whose journal already ends: the journal is left as it is;
    /// what a kill after the `end` line may have left unwritten (best.json) is written.
    static func finishedRun(_ run: RunDirectory, config: TuneConfig, replay: FarmCoordinator.Replay, comm: Communicator, workers: [Int],
                            catalog: TrainableCatalog, log: @escaping @Sendable (String) -> Void) throws -> TuneOutcome {
        for w in workers { try JobFarm.send(.object([("kind", .string("stop"))]), to: w, tag: JobFarm.toWorker, over: comm) }
        let end = replay.coordinator.endRecord(now: replay.lastTime, reason: "finished")
        var best: BestTrial?
        if let b = replay.coordinator.best, let data = FileManager.default.contents(atPath: run.bestURL.path),
           let json = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) {
            best = BestTrial(trial: b.trial, config: config.space.sample(trial: b.trial, seed: config.seed), metric: b.metric,
                             rung: b.rung, resource: b.resource, testMetric: BestTrial.Record(json: json).testMetric)
            log("run \(run.url.path) has already finished; nothing to resume, nothing changed")
        } else {
            best = try writeBest(run, config: config, coordinator: replay.coordinator, catalog: catalog)
            log("run \(run.url.path) had already finished; wrote its missing best.json")
        }
        var outcome = TuneOutcome(runDirectory: run.url, end: end, best: best, busyFraction: [:],
                                  summary: Summary.render(config: config, coordinator: replay.coordinator, best: best, busy: [:],
                                                          end: end, lost: []),
                                  simulation: nil)
        outcome.wasFinished = true
        return outcome
    }
}
