import CohortFiles
import CohortCluster
import CohortTensor
import CohortTune
import Foundation

private typealias K = NASRunFiles.Key

/// One candidate retrained from scratch.
public struct RetrainedCandidate: Sendable {
    public var architecture: CellArchitecture
    /// The farm's trial id (the candidate's position in the list given).
    public var trial: Int
    public var validationAccuracy: Double?
    public var testAccuracy: Double?
    /// Seconds of training epochs (evaluation excluded).
    public var trainSeconds: Double?
    /// Seconds the worker spent on the whole job.
    public var jobSeconds: Double?
    public var weightsDigest: String?
    public var failure: String?
    public var checkpoint: URL

    var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [(K.trial, .int(trial)), (K.architecture, .string(architecture.nasBench201String))]
        if let v = validationAccuracy { m.append((K.validationAccuracy, .double(v))) }
        if let t = testAccuracy { m.append((K.testAccuracy, .double(t))) }
        if let s = trainSeconds { m.append((K.trainSeconds, .double(s))) }
        if let s = jobSeconds { m.append((K.jobSeconds, .double(s))) }
        if let d = weightsDigest { m.append((K.weightsDigest, .string(d))) }
        if let f = failure { m.append((K.failed, .string(f))) }
        m.append((K.checkpoint, .string(checkpoint.path)))
        return .object(m)
    }
}

/// Retrains candidates from scratch as jobs of CohortTune's job farm.
///
/// The candidates become a one-parameter search space (`architecture`, a grid over
/// their strings) under the random-search scheduler, so trial i retrains candidate i
/// to `retrain.epochs` on whichever worker is free; the run has its own journal
/// (`retrain/events.jsonl`) and checkpoints (`retrain/checkpoints/`). Under mpirun
/// rank 0 coordinates and ranks 1..N-1 train; without workers (one rank) the farm
/// runs on `retrain.workers` in-process workers.
enum RetrainingFarm {
    /// Returns every candidate's outcome on rank 0, `nil` on the other ranks.
    static func run(_ candidates: [CellArchitecture], config: NASConfig, directory: URL, communicator: Communicator,
                    log: @escaping @Sendable (String) -> Void) throws -> [RetrainedCandidate]? {
        precondition(!candidates.isEmpty, "nothing to retrain")
        let space = SearchSpace([CohortTune.Parameter(name: ArchitectureTrainableFactory.parameter,
                                                      domain: .grid(candidates.map { .string($0.nasBench201String) }))])
        let run = RunDirectory(directory)
        if communicator.size >= 2 {
            if communicator.rank == 0 {
                return try coordinate(candidates, space: space, run: run, config: config, communicator: communicator, log: log)
            }
            let factory = ArchitectureTrainableFactory(config: config, data: try NASData.retrain(config))
            try JobFarm.work(comm: communicator, space: space, factory: factory, run: run)
            return nil
        }
        let factory = ArchitectureTrainableFactory(config: config, data: try NASData.retrain(config))
        let box = OutcomeBox()
        try LocalCommunicator.run(ranks: config.retrain.workers + 1) { comm in
            if comm.rank == 0 {
                box.set(try coordinate(candidates, space: space, run: run, config: config, communicator: comm, log: log))
            } else {
                try JobFarm.work(comm: comm, space: space, factory: factory, run: run)
            }
        }
        return box.value
    }

    private static func coordinate(_ candidates: [CellArchitecture], space: SearchSpace, run: RunDirectory, config: NASConfig,
                                   communicator: Communicator, log: @escaping @Sendable (String) -> Void) throws -> [RetrainedCandidate] {
        let epochs = Double(config.retrain.epochs)
        let plan: JSONValue = .object([("epochs", .int(config.retrain.epochs)), (K.seed, .int(Int(config.seed))),
                                       ("candidates", .array(candidates.map { .string($0.nasBench201String) }))])
        let runLock = try run.create(configText: plan.pretty() + "\n")
        defer { withExtendedLifetime(runLock) {} }
        let journal = RecordingJournal(try JournalWriter(url: run.journalURL, durability: .written))
        try journal.append(.run(.init(name: config.name + "-retrain", scheduler: "random", seed: config.seed,
                                      workers: communicator.size - 1, time: 0)))
        let scheduler = RandomSearchScheduler(space: space, seed: config.seed, maxResource: epochs, mode: .max,
                                              budget: Budget(maxTrials: candidates.count))
        let loop = FarmCoordinatorLoop(coordinator: FarmCoordinator(scheduler: scheduler, mode: .max), comm: communicator,
                                       journal: journal, space: space, jobTimeout: nil, timeOffset: 0)
        log("retraining \(candidates.count) candidate\(candidates.count == 1 ? "" : "s") for \(config.retrain.epochs) epochs on \(communicator.size - 1) worker\(communicator.size == 2 ? "" : "s")")
        try loop.run(endReason: "every candidate retrained")

        var finishes: [Int: JournalEvent.Finish] = [:]
        for event in journal.events {
            switch event {
            case let .result(f), let .failed(f): finishes[f.trial] = f
            default: break
            }
        }
        return try candidates.enumerated().map { trial, cell in
            let url = run.checkpoint(trial: trial, resource: epochs)
            var outcome = RetrainedCandidate(architecture: cell, trial: trial, checkpoint: url)
            outcome.jobSeconds = finishes[trial]?.seconds
            if let f = finishes[trial], f.metric == nil {
                outcome.failure = f.reason ?? "failed"
                return outcome
            }
            let metadata = try Checkpoint.read(from: url).metadata
            outcome.validationAccuracy = metadata["validation_accuracy"].flatMap(Double.init)
            outcome.testAccuracy = metadata["test_accuracy"].flatMap(Double.init)
            outcome.trainSeconds = metadata["train_seconds"].flatMap(Double.init)
            outcome.weightsDigest = metadata["weights_digest"]
            return outcome
        }
    }

    /// A journal sink that writes through to `events.jsonl` and keeps the events.
    final class RecordingJournal: JournalSink {
        let writer: JournalWriter
        private(set) var events: [JournalEvent] = []
        init(_ writer: JournalWriter) { self.writer = writer }
        func append(_ event: JournalEvent) throws {
            try writer.append(event)
            events.append(event)
        }
    }

    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [RetrainedCandidate]?
        func set(_ v: [RetrainedCandidate]) { lock.lock(); stored = v; lock.unlock() }
        var value: [RetrainedCandidate]? { lock.lock(); defer { lock.unlock() }; return stored }
    }
}
