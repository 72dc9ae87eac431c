import CohortFiles
import Foundation

/// The search policies a config may name.
public enum SchedulerKind: String, Sendable, CaseIterable {
    case asha, sha, hyperband
    case asyncHyperband = "async_hyperband"
    case random
}

/// The `scheduler:` section.
public struct SchedulerSpec: Equatable, Sendable {
    public var kind: SchedulerKind
    public var eta: Int
    public var minResource: Double
    public var maxResource: Double
    public var earlyStoppingRate: Int
    /// Async Hyperband: how many brackets (rates s0, s0+1, ...); all by default.
    public var bracketCount: Int?
    public var budget: Budget
    /// Stop once a fully trained result (at ``topResource``) is at least this good.
    public var target: Double?
    /// ASHA and async Hyperband: whether failed results count in a rung's promotion
    /// quota (`count_failures`; the author's code leaves them out).
    public var countsFailures: Bool
    /// Async Hyperband: how a free worker picks a bracket (`bracket_score`).
    public var bracketScore: AsyncHyperbandScheduler.BracketScore

    public init(kind: SchedulerKind, eta: Int = 3, minResource: Double, maxResource: Double,
                earlyStoppingRate: Int = 0, bracketCount: Int? = nil, budget: Budget = Budget(), target: Double? = nil,
                countsFailures: Bool = true, bracketScore: AsyncHyperbandScheduler.BracketScore = .product) {
        self.countsFailures = countsFailures
        self.bracketScore = bracketScore
        self.kind = kind
        self.eta = eta
        self.minResource = minResource
        self.maxResource = maxResource
        self.earlyStoppingRate = earlyStoppingRate
        self.bracketCount = bracketCount
        self.budget = budget
        self.target = target
    }

    /// floor(log_eta(R/r)).
    public var maxRate: Int { RungLadder.maxRate(minResource: minResource, maxResource: maxResource, eta: eta) }

    /// The early-stopping rates of async Hyperband's brackets.
    public var asyncRates: [Int] {
        let all = Array(earlyStoppingRate...Swift.max(earlyStoppingRate, maxRate))
        return Array(all.prefix(bracketCount ?? all.count))
    }

    /// The ladder of bracket `b` as the journal numbers brackets.
    public func ladder(forBracketRate s: Int) -> RungLadder {
        RungLadder(minResource: minResource, maxResource: maxResource, eta: eta, earlyStoppingRate: s)
    }

    /// A fresh scheduler of this kind.
    public func makeScheduler(space: SearchSpace, seed: UInt64, mode: MetricMode) -> any TrialScheduler {
        switch kind {
        case .asha:
            return ASHAScheduler(space: space, seed: seed, ladder: ladder(forBracketRate: earlyStoppingRate), mode: mode, budget: budget,
                                 countsFailures: countsFailures)
        case .asyncHyperband:
            return AsyncHyperbandScheduler(space: space, seed: seed, minResource: minResource, maxResource: maxResource,
                                           eta: eta, rates: asyncRates, mode: mode, budget: budget,
                                           countsFailures: countsFailures, bracketScore: bracketScore)
        case .sha:
            return SuccessiveHalvingScheduler(space: space, seed: seed, minResource: minResource, maxResource: maxResource, eta: eta,
                                              plan: SuccessiveHalvingScheduler.shaPlan(minResource: minResource, maxResource: maxResource,
                                                                                       eta: eta, earlyStoppingRate: earlyStoppingRate),
                                              mode: mode, budget: budget)
        case .hyperband:
            return SuccessiveHalvingScheduler(space: space, seed: seed, minResource: minResource, maxResource: maxResource, eta: eta,
                                              plan: SuccessiveHalvingScheduler.hyperbandPlan(minResource: minResource, maxResource: maxResource,
                                                                                             eta: eta, minimumRate: earlyStoppingRate),
                                              mode: mode, budget: budget)
        case .random:
            return RandomSearchScheduler(space: space, seed: seed, maxResource: maxResource, mode: mode, budget: budget)
        }
    }
}

/// A whole tuning config, validated.
///
/// ```yaml
/// name: fashion-mlp            # run name; default run directory runs/<name>
/// seed: 7                      # experiment seed (default 0)
/// metric: val_loss             # the metric's name, for tables
/// mode: min                    # min or max
/// scheduler:
///   type: asha                 # asha | sha | hyperband | async_hyperband | random
///   eta: 3                     # reduction factor, integer >= 2
///   min_resource: 1            # r
///   max_resource: 27           # R
///   early_stopping_rate: 0     # s (async_hyperband, hyperband: the smallest rate)
///   brackets: 4                # async_hyperband only: how many brackets
///   bracket_score: product     # async_hyperband only: product (depth x top-rung jobs) or
///                              #   floored (floor(top-rung jobs x depth / deepest depth), the author's code)
///   count_failures: true       # asha, async_hyperband: failed results count in a rung's
///                              #   quota floor(n / eta); false leaves them out (the author's code)
///   max_trials: 200            # configurations to start
///   time_limit: 600            # seconds since the run began
///   target: 0.3                # stop once a fully trained result is this good
/// farm:                        # see FarmSettings
///   job_timeout: 900           # seconds a job may run before its worker is declared lost
/// trainable:
///   type: surrogate            # or mlp, cnn; other fields belong to the trainable
///   seconds_per_unit: 0.1
/// space:
///   lr: {type: loguniform, low: 1.0e-4, high: 1.0}
///   momentum: {type: uniform, low: 0.0, high: 0.99}
///   width: {type: int, low: 16, high: 512, log: true}
///   activation: {type: choice, values: [relu, tanh]}
///   depth: {type: grid, values: [1, 2, 3]}
///   epochs_per_unit: 1         # a plain value is a constant
/// ```
public struct TuneConfig: Sendable {
    public var name: String
    public var seed: UInt64
    public var metric: String
    public var mode: MetricMode
    public var scheduler: SchedulerSpec
    public var farm: FarmSettings
    public var jobTimeout: JobTimeout? { farm.jobTimeout }
    public var trainableType: String
    /// The `trainable:` section, read by the trainable type's builder.
    public var trainable: JSONValue
    public var space: SearchSpace
    /// The text the config was read from (copied into the run directory).
    public var sourceText: String

    public func makeScheduler() -> any TrialScheduler {
        scheduler.makeScheduler(space: space, seed: seed, mode: mode)
    }

    /// The `target` setting as the coordinator applies it.
    public var stopTarget: StopTarget? {
        scheduler.target.map { StopTarget(metric: $0, resource: scheduler.topResource) }
    }

    /// A fresh coordinator over a fresh scheduler.
    public func makeCoordinator() -> FarmCoordinator {
        FarmCoordinator(scheduler: makeScheduler(), mode: mode, target: stopTarget)
    }

    public var trainableContext: TrainableContext {
        TrainableContext(space: space, seed: seed, mode: mode, maxResource: scheduler.maxResource)
    }

    /// Builds the trainable factory through `catalog`.
    public func makeTrainableFactory(catalog: TrainableCatalog = .standard) throws -> any TrainableFactory {
        try catalog.makeFactory(trainable, context: trainableContext)
    }

    // MARK: Loading

    public static func load(contentsOf url: URL, catalog: TrainableCatalog = .standard) throws -> TuneConfig {
        let text = try ConfigDocument.text(contentsOf: url)
        return try parse(text, source: url.lastPathComponent, defaultName: url.deletingPathExtension().lastPathComponent, catalog: catalog)
    }

    /// Parses and validates a config; every problem is reported, one line each.
    /// The trainable section is checked by building its factory once.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "tune",
                             catalog: TrainableCatalog = .standard) throws -> TuneConfig {
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: source, issues: issues)
        let name = top.runName(default: defaultName)
        let seed = UInt64(top.int("seed", default: 0, min: 0))
        let metric = top.string("metric", default: "metric")
        if metric.isEmpty { top.issue("metric", "must be the metric's name") }
        let mode = top.choice("mode", MetricMode.min)

        var space: SearchSpace?
        if let v = top.value("space") {
            top.check { space = try SearchSpace(json: v) }
        } else {
            top.issue("space", "is missing: define the hyperparameters to search")
        }
        let scheduler = top.section("scheduler", required: true, hint: "type, eta, min_resource, max_resource, budget")
            .flatMap { readScheduler($0, gridSize: space?.gridSize ?? 1) }
        let farm = FarmSettings(top.section("farm"))
        let trainable = top.value("trainable")
        if trainable == nil { top.issue("trainable", "is missing: say what to train (type: \(catalog.names.joined(separator: ", ")))") }
        if let type = trainable?["type"]?.stringValue, catalog.builder(named: type) == nil {
            top.issue("trainable.type", catalog.unknownTypeMessage(type))
        }
        top.finish()

        guard issues.isEmpty, let space, let scheduler, let trainable else { throw ConfigError(issues.list) }
        let trainableType = trainable["type"]?.stringValue ?? ""
        let config = TuneConfig(name: name, seed: seed, metric: metric, mode: mode, scheduler: scheduler, farm: farm,
                                trainableType: trainableType, trainable: trainable, space: space, sourceText: text)
        let factory = try config.makeTrainableFactory(catalog: catalog)
        if farm.ranksPerTrial > 1 && !factory.trainsDataParallel {
            throw ConfigError(at: "farm.ranks_per_trial", "a trainable of type \(trainableType) trains each trial on one rank; ranks_per_trial: \(farm.ranksPerTrial) needs one that trains data-parallel (mlp or cnn)")
        }
        return config
    }

    private static func readScheduler(_ section: ConfigSection, gridSize: Int) -> SchedulerSpec? {
        let before = section.issues.count
        defer { section.finish() }
        let kind = section.choice("type", SchedulerKind.asha)
        let eta = section.int("eta", default: 3, min: 2, max: 1000)
        let maxResource = section.double("max_resource", max: Limits.resource, above: 0)
        if !section.has("max_resource") { section.issue("max_resource", "is missing (R, the resource of a fully trained configuration)") }
        let minResource = section.double("min_resource", kind == .random ? maxResource : 1, max: Limits.resource, above: 0)
        let s = section.int("early_stopping_rate", default: 0)
        let brackets = section.int("brackets")
        let bracketScore = section.choice("bracket_score", AsyncHyperbandScheduler.BracketScore.product)
        let countsFailures = section.bool("count_failures", default: true)
        let maxTrials = section.int("max_trials", min: 1, max: Limits.count)
        let timeLimit = section.double("time_limit", max: Limits.seconds, above: 0)
        let target = section.double("target")
        if let r = minResource, let R = maxResource, r > R {
            section.issue("min_resource (\(JSONValue.number(r))) is greater than max_resource (\(JSONValue.number(R)))")
        }
        guard section.issues.count == before, let r = minResource, let R = maxResource else { return nil }

        let smax = RungLadder.maxRate(minResource: r, maxResource: R, eta: eta)
        if smax > RungLadder.maxRungs {
            section.issue("min_resource", "gives floor(log_\(eta)(\(JSONValue.number(R))/\(JSONValue.number(r)))) = \(smax) rungs; at most \(RungLadder.maxRungs): raise min_resource or eta")
            return nil
        }
        if s < 0 || s > smax {
            section.issue("early_stopping_rate", "must be between 0 and floor(log_\(eta)(\(JSONValue.number(R))/\(JSONValue.number(r)))) = \(smax), got \(s)")
            return nil
        }
        if kind == .sha || kind == .hyperband,
           Checked.product(repeatElement(eta, count: smax - s), limit: Limits.count) == nil {
            section.issue("eta^\(smax - s) configurations in one bracket is more than \(Limits.count): raise min_resource or lower eta")
            return nil
        }
        if let brackets {
            if kind != .asyncHyperband {
                section.issue("brackets", "is a setting of async_hyperband only")
            } else if brackets < 1 || brackets > smax - s + 1 {
                section.issue("brackets", "must be between 1 and \(Swift.max(1, smax - s + 1)), got \(brackets)")
            }
        }
        if section.has("bracket_score") && kind != .asyncHyperband {
            section.issue("bracket_score", "is a setting of async_hyperband only")
        }
        if section.has("count_failures") && kind != .asha && kind != .asyncHyperband {
            section.issue("count_failures", "is a setting of asha and async_hyperband only (sha and hyperband promote a fixed number per rung)")
        }
        var budget = Budget(maxTrials: maxTrials, timeLimit: timeLimit)
        if budget.isUnbounded && [.asha, .asyncHyperband, .random].contains(kind) {
            if kind == .random && gridSize > 1 {
                budget.maxTrials = gridSize
            } else {
                section.issue("\(kind.rawValue) never ends by itself: set max_trials and/or time_limit")
            }
        }
        guard section.issues.count == before else { return nil }
        return SchedulerSpec(kind: kind, eta: eta, minResource: r, maxResource: R, earlyStoppingRate: s,
                             bracketCount: brackets, budget: budget, target: target,
                             countsFailures: countsFailures, bracketScore: bracketScore)
    }
}
