import CohortFiles
import Foundation
import CohortCluster

/// `cohort tune --simulate-workers N`: the cluster to pretend to have.
public struct SimulationOptions: Equatable, Sendable {
    public var workers: Int
    public var stragglers: StragglerModel
    public var dropProbability: Double
    /// Seconds each job costs besides training (see ``SimulatedClusterSpec/jobOverhead``).
    public var jobOverhead: Double

    public init(workers: Int, stragglers: StragglerModel = .none, dropProbability: Double = 0, jobOverhead: Double = 0) {
        self.workers = workers
        self.stragglers = stragglers
        self.dropProbability = dropProbability
        self.jobOverhead = jobOverhead
    }

    /// The cluster for `config`: its job timeout, and slow-downs and drops seeded by its seed.
    public func cluster(for config: TuneConfig) -> SimulatedClusterSpec {
        SimulatedClusterSpec(workers: workers, stragglers: stragglers, dropProbability: dropProbability,
                             jobTimeout: config.jobTimeout, seed: config.seed, jobOverhead: jobOverhead)
    }
}

extension TuneRunner {
    /// Runs a search on a simulated cluster and writes a run directory a real run
    /// would have written (config copy, journal with virtual times, best.json), plus
    /// `simulation.json`. No checkpoints: nothing is trained.
    public static func simulate(_ options: TuneOptions, _ simulation: SimulationOptions,
                                catalog: TrainableCatalog = .standard) throws -> TuneOutcome {
        let prepared: (config: TuneConfig, factory: any SimulatableTrainableFactory, run: RunDirectory, spec: SimulatedClusterSpec)
        do {
            if Cluster.isUnderMPI {
                throw TuneError.ranks("--simulate-workers runs the whole farm in one process; start it without mpirun")
            }
            if options.resume { throw TuneError.io("--resume continues real runs; a simulated run is rerun in seconds instead") }
            if options.workers != nil { throw TuneError.io("--workers and --simulate-workers cannot be combined") }
            guard let path = options.configPath else { throw TuneError.io("say which search to simulate with --config FILE") }
            let config = try TuneConfig.load(contentsOf: URL(fileURLWithPath: path), catalog: catalog)
            guard let factory = try config.makeTrainableFactory(catalog: catalog) as? any SimulatableTrainableFactory else {
                throw SimulationError.notSimulatable(config.trainableType)
            }
            let spec = simulation.cluster(for: config)
            try spec.validate()
            let run = RunDirectory(URL(fileURLWithPath: options.out ?? "runs/\(config.name)"))
            try run.requireFresh()
            prepared = (config, factory, run, spec)
        } catch {
            throw TuneInputError("\(error)")
        }
        let (config, factory, run, spec) = prepared

        let runLock = try run.create(configText: config.sourceText)
        defer { withExtendedLifetime(runLock) {} }
        try AtomicFile.write(spec.json, to: run.simulationURL)
        let journal = try JournalWriter(url: run.journalURL, durability: .buffered, replacing: true)
        try journal.append(.run(.init(name: config.name, scheduler: config.scheduler.kind.rawValue, seed: config.seed,
                                      workers: spec.workers, time: 0)))
        let started = Date()
        let outcome = try SimulatedCluster(spec: spec, factory: factory)
            .run(coordinator: config.makeCoordinator(), journal: journal)
        try journal.flush()
        let wall = Date().timeIntervalSince(started)

        var best: BestTrial?
        if let b = outcome.coordinator.best {
            let cfg = config.space.sample(trial: b.trial, seed: config.seed)
            best = BestTrial(trial: b.trial, config: cfg, metric: b.metric, rung: b.rung, resource: b.resource,
                             testMetric: factory.testMetric(trial: b.trial, config: cfg, resource: b.resource))
            try Data((best!.json.pretty() + "\n").utf8).write(to: run.bestURL, options: .atomic)
        }
        let busy = outcome.busyFraction(workers: spec.workers)
        var summary = Summary.render(config: config, coordinator: outcome.coordinator, best: best,
                                     busy: spec.workers <= 16 ? busy : [:], end: outcome.end, lost: [])
        summary += "\n" + simulationLine(spec: spec, outcome: outcome, busy: busy,
                                         timeOfR: config.scheduler.maxResource * factory.baseSecondsPerUnit, wall: wall)
        return TuneOutcome(runDirectory: run.url, end: outcome.end, best: best, busyFraction: busy, summary: summary,
                           simulation: outcome)
    }

    static func simulationLine(spec: SimulatedClusterSpec, outcome: SimulatedCluster.Outcome, busy: [Int: Double],
                               timeOfR: Double, wall: Double) -> String {
        let mean = busy.values.reduce(0, +) / Double(Swift.max(1, busy.count))
        var line = "simulated cluster: \(spec.workers) workers, \(spec.stragglers.summary)"
        if spec.dropProbability > 0 { line += ", drop probability \(JSONValue.number(spec.dropProbability)) (\(outcome.droppedJobs) jobs dropped)" }
        if outcome.losses > 0 { line += ", \(outcome.losses) losses noticed" }
        if spec.jobOverhead > 0 { line += ", \(JSONValue.number(spec.jobOverhead * 1000)) ms overhead per job" }
        line += String(format: "; virtual time %.1f s", outcome.end.time)
        if timeOfR > 0 { line += String(format: " (%.2f x time(R))", outcome.end.time / timeOfR) }
        line += String(format: ", workers busy %.0f%%, simulated in %.2f s", mean * 100, wall)
        return line
    }
}
