import CohortFiles
import CohortCluster
import CohortTune
import Foundation

/// Drives one run's arms on every rank: the outer scheduler, each arm's rounds, and
/// (on rank 0) the journal and checkpoints.
struct ArmRunner {
    let comm: Communicator
    let config: FedConfig
    let data: FederatedDataset
    let model: FederatedModel
    let directory: RunDirectory
    let history: FederatedRunner.Replay
    let options: FedOptions
    let log: (String) -> Void

    private var journal: JournalWriter?
    private var results: [ArmResult] = []
    private var announced: Set<Int> = []
    private var roundsRun = 0
    private var lastGlobal: [Float] = []
    private let clockStart = Date()

    init(comm: Communicator, config: FedConfig, data: FederatedDataset, model: FederatedModel,
         directory: RunDirectory, history: FederatedRunner.Replay, options: FedOptions, log: @escaping (String) -> Void) {
        self.comm = comm
        self.config = config
        self.data = data
        self.model = model
        self.directory = directory
        self.history = history
        self.options = options
        self.log = log
        announced = Set(history.announcedArms)
    }

    private var isRoot: Bool { comm.rank == 0 }
    private var now: Double { history.timeOffset + Date().timeIntervalSince(clockStart) }

    // MARK: The outer loop

    mutating func run() throws -> FedOutcome {
        if history.finished {
            return outcome(results: history.results, finished: true)
        }
        if isRoot { journal = try rankLocal { try RunJournal.open(url: directory.journalURL, sync: options.syncJournal) } }
        var scheduler = config.search?.makeScheduler(rounds: config.base.rounds, seed: config.seed)
            ?? SchedulerSpec(kind: .random, minResource: Double(config.base.rounds), maxResource: Double(config.base.rounds),
                             budget: Budget(maxTrials: 1)).makeScheduler(space: SearchSpace([]), seed: config.seed, mode: .min)
        var recorded: [String: ArmResult] = [:]
        for r in history.results { recorded["\(r.arm)/\(r.rung)"] = r }

        while true {
            switch scheduler.nextDecision(now: 0) {
            case .finished:
                let outcome = outcome(results: results, finished: true)
                if isRoot { try rankLocal { try finish(outcome) } }
                return outcome
            case .wait:
                throw FederatedError.unsatisfiable("the arm scheduler waits with no arm running")
            case let .run(job):
                if let done = recorded["\(job.trial)/\(job.rung)"] {
                    results.append(done)
                    try scheduler.record(.metric(trial: job.trial, rung: job.rung, done.metric))
                    continue
                }
                guard let result = try runJob(job) else { return outcome(results: results, finished: false) }
                results.append(result)
                try scheduler.record(.metric(trial: job.trial, rung: job.rung, result.metric))
            }
        }
    }

    // MARK: One arm's rounds

    /// Runs arm `job.trial` up to `job.resource` rounds; `nil` when the round limit stopped it.
    private mutating func runJob(_ job: Job) throws -> ArmResult? {
        let arm = job.trial
        let settings = try config.settings(arm: arm, searchConfig: config.search == nil ? nil : job.config)
        let target = Int(job.resource)
        let saved = try loadState(arm: arm, settings: settings)
        let rounds = try saved.map {
            try FederatedRounds(settings: settings, data: data, model: model, communicator: comm, state: $0)
        } ?? FederatedRounds(settings: settings, data: data, model: model, communicator: comm)
        if isRoot && !announced.contains(arm) {
            let event = RunEvent.arm(arm, searchConfig: job.config, settings: settings, time: now)
            try rankLocal { try journal?.append(event) }
            announced.insert(arm)
            if config.search != nil { log("arm \(arm): \(job.config.entries.isEmpty ? "base settings" : job.config.description)") }
        }
        var evaluation: EvaluationRecord?
        var lastClientScore: Double?
        while rounds.completedRounds < target {
            if let limit = options.roundLimit, roundsRun >= limit { return nil }
            let record = try rounds.runRound()
            lastClientScore = record.clientScore
            roundsRun += 1
            let due = rounds.isEvaluationDue || rounds.completedRounds == target
            let scored = due ? try rounds.evaluate() : nil
            if let scored { evaluation = scored }
            if isRoot {
                let line = RunEvent.round(arm: arm, record: record, evaluation: scored, fedex: rounds.fedex,
                                          space: settings.fedex?.space, digest: rounds.globalDigest, time: now)
                let checkpoint = RoundCheckpoint(arm: arm, state: rounds.state)
                try rankLocal {
                    try journal?.append(line)
                    try checkpoint.write(to: directory.checkpoint(arm: arm))
                }
                if let scored { log(progressLine(arm: arm, round: rounds.completedRounds, target: target, record: record, evaluation: scored)) }
            }
        }
        let final = try evaluation ?? rounds.evaluate()
        let tuned = settings.fineTuneForEvaluation ? try rounds.evaluateFineTuned() : nil
        lastGlobal = rounds.global
        let scored = tuned ?? final
        var metric = scored.validation.count > 0 ? 1 - scored.validation.accuracy : 1 - scored.test.accuracy
        if config.search?.armScore == .trainingRounds {
            // FedEx's reference: the last round's clients' error after local training.
            // A resumed arm whose rounds all ran before the interruption has no round
            // record here; it falls back to the evaluation.
            if let lastClientScore { metric = lastClientScore }
        }
        let result = ArmResult(arm: arm, rung: job.rung, rounds: rounds.completedRounds, metric: metric,
                               testAccuracy: final.test.accuracy,
                               validationAccuracy: final.validation.count > 0 ? final.validation.accuracy : nil,
                               heldOutAccuracy: final.heldOut.count > 0 ? final.heldOut.accuracy : nil,
                               tunedTestAccuracy: tuned?.test.accuracy,
                               tunedValidationAccuracy: tuned.flatMap { $0.validation.count > 0 ? $0.validation.accuracy : nil },
                               tunedHeldOutAccuracy: tuned.flatMap { $0.heldOut.count > 0 ? $0.heldOut.accuracy : nil })
        if isRoot {
            let event = RunEvent.result(arm: arm, rung: job.rung, rounds: result.rounds, metric: metric, evaluation: final,
                                        tuned: tuned, configuration: try rounds.tunedConfiguration(), time: now)
            try rankLocal { try journal?.append(event) }
        }
        return result
    }

    /// The arm's checkpoint, read by rank 0 and broadcast to every rank; `nil` when the
    /// arm has none yet.
    private func loadState(arm: Int, settings: RoundSettings) throws -> RoundState? {
        struct Header: Codable {
            var exists = false
            var failure: String?
            var completedRounds = 0
            var serverRound = 0
            var counts = [0, 0, 0]
            var fedex: FedExDistribution?
        }
        var header = Header()
        var state: RoundState?
        if isRoot {
            let url = directory.checkpoint(arm: arm)
            if FileManager.default.fileExists(atPath: url.path) {
                do {
                    state = try RoundCheckpoint.read(from: url, settings: settings.server, parameterCount: model.parameters.count).state
                    header = Header(exists: true, completedRounds: state!.completedRounds, serverRound: state!.server.round,
                                    counts: [state!.global.count, state!.server.firstMoment.count, state!.server.secondMoment.count],
                                    fedex: state!.fedex)
                } catch { header.failure = "\(error)" }
            }
        }
        header = try comm.broadcast(message: isRoot ? header : nil, root: 0)
        if let failure = header.failure { throw RunFailure(message: failure) }
        guard header.exists else { return nil }
        var global = state?.global ?? [Float](repeating: 0, count: header.counts[0])
        var first = state?.server.firstMoment ?? [Float](repeating: 0, count: header.counts[1])
        var second = state?.server.secondMoment ?? [Float](repeating: 0, count: header.counts[2])
        try comm.broadcast(&global, root: 0)
        try comm.broadcast(&first, root: 0)
        try comm.broadcast(&second, root: 0)
        let server = try ServerOptimizer(settings: settings.server, round: header.serverRound, firstMoment: first, secondMoment: second)
        return RoundState(completedRounds: header.completedRounds, global: global, server: server, fedex: header.fedex)
    }

    // MARK: The end

    private func outcome(results: [ArmResult], finished: Bool) -> FedOutcome {
        let top = results.map(\.rounds).max() ?? 0
        // Scored by training rounds, the best score of any rung wins, as FedEx's reference
        // keeps the best arm across all elimination stages; otherwise the best fully run arm.
        let pool = config.search?.armScore == .trainingRounds ? results : results.filter { $0.rounds == top }
        let best = pool.min { ($0.metric, $0.arm) < ($1.metric, $1.arm) }
        return FedOutcome(runDirectory: directory.url, finished: finished, results: results, best: best,
                          lastGlobalModel: lastGlobal)
    }

    private typealias K = FederatedEvent.Key

    private func finish(_ outcome: FedOutcome) throws {
        var members: [(key: String, value: JSONValue)] = [(K.event, .string(FederatedEvent.Kind.end.rawValue))]
        if let best = outcome.best { members += Self.fields(best) }
        members.append((K.time, .double(now)))
        try journal?.append(.object(members))
        let summary = JSONValue.object([
            (K.name, .string(config.name)),
            ("best", outcome.best.map { .object(Self.fields($0)) } ?? .null),
            ("results", .array(outcome.results.map { .object(Self.fields($0)) })),
        ])
        do { try AtomicFile.write(summary, to: directory.summaryURL) } catch {
            throw FederatedError.runDirectory(path: directory.url.path, message: "\(error)")
        }
    }

    static func fields(_ r: ArmResult) -> [(key: String, value: JSONValue)] {
        func optional(_ x: Double?) -> JSONValue { x.map(JSONValue.double) ?? .null }
        var members: [(key: String, value: JSONValue)] = [
            (K.arm, .int(r.arm)), (K.rung, .int(r.rung)), (K.rounds, .int(r.rounds)), (K.metric, RunEvent.number(r.metric)),
            (K.testAccuracy, .double(r.testAccuracy)), (K.validationAccuracy, optional(r.validationAccuracy)),
            (K.heldOutAccuracy, optional(r.heldOutAccuracy)),
        ]
        if r.tunedTestAccuracy != nil {
            members.append((K.tunedTestAccuracy, optional(r.tunedTestAccuracy)))
            members.append((K.tunedValidationAccuracy, optional(r.tunedValidationAccuracy)))
            members.append((K.tunedHeldOutAccuracy, optional(r.tunedHeldOutAccuracy)))
        }
        return members
    }

    private func progressLine(arm: Int, round: Int, target: Int, record: RoundRecord, evaluation: EvaluationRecord) -> String {
        var line = config.search == nil ? "" : "arm \(arm) "
        line += "round \(round)/\(target): train loss \(Self.format(record.trainLoss)), test accuracy \(Self.format(evaluation.test.accuracy))"
        if evaluation.validation.count > 0 { line += ", validation \(Self.format(evaluation.validation.accuracy))" }
        if evaluation.heldOut.count > 0 { line += ", held-out \(Self.format(evaluation.heldOut.accuracy))" }
        return line + String(format: " (%.1f s)", now)
    }

    static func format(_ x: Double) -> String { String(format: "%.4f", x) }

    /// Runs rank 0's file work. A failure there is not shared by the other ranks, so it
    /// must end the whole job (the command line aborts every rank) rather than be
    /// reported as an error every rank raised.
    private func rankLocal<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw RankLocalFailure(description: "\(error)") }
    }
}

/// A failure on one rank only (rank 0's files): the job must be aborted.
struct RankLocalFailure: Error, CustomStringConvertible {
    var description: String
}
