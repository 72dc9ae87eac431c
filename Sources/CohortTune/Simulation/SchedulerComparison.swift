import CohortFiles
import Foundation

/// Simulated cluster conditions a comparison runs under.
public struct ClusterCondition: Equatable, Sendable {
    public var stragglers: StragglerModel
    public var dropProbability: Double

    public init(stragglers: StragglerModel = .none, dropProbability: Double = 0) {
        self.stragglers = stragglers
        self.dropProbability = dropProbability
    }

    /// "none", "lognormal:1", "fraction:0.1:10+drop:0.01", ...
    public var name: String {
        dropProbability > 0 ? "\(stragglers)+drop:\(JSONValue.number(dropProbability))" : stragglers.description
    }
}

/// Which metric counts as "good enough".
public enum ComparisonTarget: Equatable, Sendable {
    /// A fixed metric value.
    case value(Double)
    /// The metric, fully trained, that only this fraction of the search space's
    /// configurations reaches (0.001: one configuration in a thousand), measured
    /// on a population of sampled configurations for each seed.
    case quantile(Double)
}

/// The experiment behind the question "which scheduler reaches a good configuration
/// first, on this many workers, when jobs straggle?": every scheduler, worker count,
/// condition and seed is a simulated run of the same search; each reports its time
/// to the target in multiples of time(R), the time to train one configuration fully
/// (Li et al. 2020 measure the same way).
///
/// All schedulers of one seed see the same configurations in the same order (trial
/// ids name them) and the same learning curves; jobs straggle by (trial, rung), so
/// the comparison is between policies, not between lucky draws.
public struct SchedulerComparison: Sendable {
    public var base: TuneConfig
    public var schedulers: [SchedulerKind]
    public var workers: [Int]
    public var conditions: [ClusterCondition]
    public var seeds: [UInt64]
    public var target: ComparisonTarget
    /// Each run's budget, in multiples of time(R); a run that has not reached the
    /// target by then counts as not reaching it.
    public var timeLimit: Double
    /// Configurations sampled to place a quantile target.
    public var population: Int

    public init(base: TuneConfig, schedulers: [SchedulerKind] = [.asha, .sha, .random], workers: [Int],
                conditions: [ClusterCondition], seeds: [UInt64], target: ComparisonTarget, timeLimit: Double,
                population: Int = 20_000) {
        self.base = base
        self.schedulers = schedulers
        self.workers = workers
        self.conditions = conditions
        self.seeds = seeds
        self.target = target
        self.timeLimit = timeLimit
        self.population = population
    }

    /// One simulated run's result.
    public struct Run: Equatable, Sendable {
        public var scheduler: SchedulerKind
        public var workers: Int
        public var condition: String
        public var seed: UInt64
        public var target: Double
        /// In multiples of time(R); `nil` when the target was not reached within the limit.
        public var timeToTarget: Double?
        public var trials: Int
        public var results: Int
        /// Virtual time simulated, in multiples of time(R).
        public var simulated: Double
        /// Resource units dispatched per trial started: what screening one
        /// configuration cost (3.67 for a full SHA bracket with eta 3 and 5 rungs;
        /// more for ASHA, whose promotions on partial rungs exceed 1/eta).
        public var unitsPerTrial: Double
    }

    // MARK: Running

    /// Checks the plan before anything runs.
    public func validate() throws {
        func bad(_ s: String) -> SimulationError { .badCluster(s) }
        if schedulers.isEmpty || workers.isEmpty || conditions.isEmpty || seeds.isEmpty {
            throw bad("a comparison needs at least one scheduler, worker count, condition and seed")
        }
        if let w = workers.first(where: { $0 < 1 }) { throw bad("worker counts must be at least 1, got \(w)") }
        guard timeLimit > 0 else { throw bad("the time limit must be positive (in multiples of time(R)), got \(timeLimit)") }
        if case let .quantile(q) = target, !(q > 0 && q < 1) { throw bad("the target quantile must be between 0 and 1, got \(q)") }
        guard population >= 1 else { throw bad("the population must be at least 1") }
        let factory = try base.makeTrainableFactory()
        guard let sim = factory as? any SimulatableTrainableFactory else { throw SimulationError.notSimulatable(base.trainableType) }
        guard sim.baseSecondsPerUnit > 0 else {
            throw bad("trainable.seconds_per_unit must be positive: times are measured in multiples of time(R) = max_resource x seconds_per_unit")
        }
        for c in conditions {
            try SimulatedClusterSpec(workers: 1, stragglers: c.stragglers, dropProbability: c.dropProbability, jobTimeout: base.jobTimeout).validate()
        }
    }

    /// The config of one run: the base with this seed and scheduler, budgeted by time only.
    public func config(seed: UInt64, scheduler: SchedulerKind, timeOfR: Double) -> TuneConfig {
        var c = base
        c.seed = seed
        c.scheduler.kind = scheduler
        if scheduler == .random { c.scheduler.minResource = c.scheduler.maxResource }
        c.scheduler.budget = Budget(maxTrials: nil, timeLimit: timeLimit * timeOfR)
        return c
    }

    /// The target metric for `seed`.
    public func targetValue(seed: UInt64) throws -> Double {
        switch target {
        case let .value(v): return v
        case let .quantile(q):
            var c = base
            c.seed = seed
            guard let factory = try c.makeTrainableFactory() as? any SimulatableTrainableFactory else {
                throw SimulationError.notSimulatable(base.trainableType)
            }
            let resource = base.scheduler.topResource
            var metrics: [Double] = []
            metrics.reserveCapacity(population)
            for t in 0..<population {
                let job = Job(trial: t, config: c.space.sample(trial: t, seed: seed), rung: 0, resource: resource)
                metrics.append(factory.simulate(job).outcome.metricValue ?? c.mode.worst)
            }
            metrics.sort { c.mode.isBetter($0, than: $1) }
            let index = Swift.min(metrics.count - 1, Swift.max(0, Int((q * Double(metrics.count)).rounded(.down))))
            return metrics[index]
        }
    }

    /// Runs every cell of the plan; `progress` hears each run as it finishes.
    public func run(progress: ((Run) -> Void)? = nil) throws -> [Run] {
        try validate()
        var runs: [Run] = []
        for seed in seeds {
            let target = try targetValue(seed: seed)
            for w in workers {
                for condition in conditions {
                    for kind in schedulers {
                        let r = try runOne(kind: kind, workers: w, condition: condition, seed: seed, target: target)
                        runs.append(r)
                        progress?(r)
                    }
                }
            }
        }
        return runs
    }

    /// One simulated run, stopped as soon as the target is reached.
    public func runOne(kind: SchedulerKind, workers w: Int, condition: ClusterCondition, seed: UInt64, target: Double) throws -> Run {
        var probe = base
        probe.seed = seed
        guard let factory = try probe.makeTrainableFactory() as? any SimulatableTrainableFactory else {
            throw SimulationError.notSimulatable(base.trainableType)
        }
        let timeOfR = base.scheduler.maxResource * factory.baseSecondsPerUnit
        let config = config(seed: seed, scheduler: kind, timeOfR: timeOfR)
        let spec = SimulatedClusterSpec(workers: w, stragglers: condition.stragglers, dropProbability: condition.dropProbability,
                                        jobTimeout: config.jobTimeout, seed: seed)
        let resource = base.scheduler.topResource
        let mode = config.mode
        var reachedAt: Double?
        var units = 0.0
        let outcome = try SimulatedCluster(spec: spec, factory: factory).run(
            coordinator: FarmCoordinator(scheduler: config.makeScheduler(), mode: mode), journal: DiscardingJournal(),
            stopReason: "target reached"
        ) { event in
            if case let .start(st) = event { units += st.job.resource - (st.job.resumeFrom ?? 0) }
            guard case let .result(f) = event, RunAnalysis.reaches(f, target: target, mode: mode, resource: resource) else { return false }
            reachedAt = f.time
            return true
        }
        return Run(scheduler: kind, workers: w, condition: condition.name, seed: seed, target: target,
                   timeToTarget: reachedAt.map { $0 / timeOfR }, trials: outcome.end.trials, results: outcome.end.results,
                   simulated: outcome.end.time / timeOfR, unitsPerTrial: outcome.end.trials > 0 ? units / Double(outcome.end.trials) : 0)
    }

    // MARK: Tables

    /// Runs of one (workers, condition, scheduler), over seeds.
    public struct Row: Equatable, Sendable {
        public var workers: Int
        public var condition: String
        public var scheduler: SchedulerKind
        /// Time to target per seed, seed order; `nil` = not reached.
        public var times: [Double?]
        /// Resource units per trial started, per seed.
        public var unitsPerTrial: [Double]
        public var meanUnitsPerTrial: Double { unitsPerTrial.isEmpty ? 0 : unitsPerTrial.reduce(0, +) / Double(unitsPerTrial.count) }
        public var reached: Int { times.compactMap { $0 }.count }
        /// The median, counting runs that did not reach the target as slower than
        /// every run that did; `nil` when half or more did not reach it.
        public var median: Double? { Self.median(times) }
        /// The mean over runs that reached the target.
        public var meanReached: Double? {
            let t = times.compactMap { $0 }
            return t.isEmpty ? nil : t.reduce(0, +) / Double(t.count)
        }

        static func median(_ values: [Double?]) -> Double? {
            let sorted = values.sorted { a, b in
                switch (a, b) {
                case let (x?, y?): return x < y
                case (.some, nil): return true
                default: return false
                }
            }
            guard !sorted.isEmpty else { return nil }
            let n = sorted.count
            if n % 2 == 1 { return sorted[n / 2] }
            guard let lo = sorted[n / 2 - 1], let hi = sorted[n / 2] else { return nil }
            return (lo + hi) / 2
        }
    }

    public static func rows(_ runs: [Run]) -> [Row] {
        var rows: [Row] = []
        for r in runs {
            if let i = rows.firstIndex(where: { $0.workers == r.workers && $0.condition == r.condition && $0.scheduler == r.scheduler }) {
                rows[i].times.append(r.timeToTarget)
                rows[i].unitsPerTrial.append(r.unitsPerTrial)
            } else {
                rows.append(Row(workers: r.workers, condition: r.condition, scheduler: r.scheduler, times: [r.timeToTarget],
                                unitsPerTrial: [r.unitsPerTrial]))
            }
        }
        return rows.sorted { ($0.workers, $0.condition) < ($1.workers, $1.condition) }
    }

    /// ASHA against one rival in one setting.
    public struct Verdict: Equatable, Sendable {
        public var workers: Int
        public var condition: String
        public var rival: SchedulerKind
        public var ashaMedian: Double?
        public var rivalMedian: Double?
        /// Seeds where ASHA reached the target strictly earlier (a rival that never
        /// reached it loses to an ASHA run that did).
        public var ashaWins: Int
        public var seeds: Int
        /// ASHA's median is strictly lower (an unreached median counts as infinite).
        public var holds: Bool {
            guard let a = ashaMedian else { return false }
            guard let r = rivalMedian else { return true }
            return a < r
        }
    }

    /// ASHA against every other scheduler, setting by setting.
    public static func verdicts(_ runs: [Run]) -> [Verdict] {
        var out: [Verdict] = []
        let rows = rows(runs)
        for asha in rows where asha.scheduler == .asha {
            for rival in rows where rival.scheduler != .asha && rival.workers == asha.workers && rival.condition == asha.condition {
                let wins = zip(asha.times, rival.times).filter { a, r in
                    guard let a else { return false }
                    guard let r else { return true }
                    return a < r
                }.count
                out.append(Verdict(workers: asha.workers, condition: asha.condition, rival: rival.scheduler, ashaMedian: asha.median,
                                   rivalMedian: rival.median, ashaWins: wins, seeds: Swift.min(asha.times.count, rival.times.count)))
            }
        }
        return out
    }

    /// Every run, one CSV line each.
    public static func csv(_ runs: [Run]) -> String {
        var lines = ["scheduler,workers,condition,seed,target,time_to_target_R,trials,results,simulated_R,units_per_trial"]
        for r in runs {
            lines.append([r.scheduler.rawValue, String(r.workers), r.condition, String(r.seed), "\(r.target)",
                          r.timeToTarget.map { String(format: "%.4f", $0) } ?? "", String(r.trials), String(r.results),
                          String(format: "%.4f", r.simulated), String(format: "%.4f", r.unitsPerTrial)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension TrialResult.Outcome {
    /// The metric, or `nil` for a failure.
    public var metricValue: Double? {
        if case let .metric(m) = self { return m }
        return nil
    }
}

/// A journal that keeps nothing: comparisons only watch events go by.
final class DiscardingJournal: JournalSink {
    func append(_ event: JournalEvent) throws {}
}
