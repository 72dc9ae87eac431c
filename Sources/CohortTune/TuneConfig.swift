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

    public init(kind: SchedulerKind, eta: Int = 3, minResource: Double, maxResource: Double,
                earlyStoppingRate: Int = 0, bracketCount: Int? = nil, budget: Budget = Budget(), target: Double? = nil) {
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
            return ASHAScheduler(space: space, seed: seed, ladder: ladder(forBracketRate: earlyStoppingRate), mode: mode, budget: budget)
        case .asyncHyperband:
            return AsyncHyperbandScheduler(space: space, seed: seed, minResource: minResource, maxResource: maxResource,
                                           eta: eta, rates: asyncRates, mode: mode, budget: budget)
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
///   max_trials: 200            # configurations to start
///   time_limit: 600            # seconds since the run began
///   target: 0.3                # stop once a fully trained result is this good
/// farm:
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
    public var jobTimeout: Double?
    public var trainableType: String
    public var trainable: TrainableSection
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
        guard let build = catalog.builder(named: trainableType) else {
            throw ConfigError([ConfigIssue(path: "trainable.type", message: "unknown trainable '\(trainableType)' (expected one of \(catalog.names.joined(separator: ", ")))")])
        }
        return try build(trainable, trainableContext)
    }

    // MARK: Loading

    public static func load(contentsOf url: URL, catalog: TrainableCatalog = .standard) throws -> TuneConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError([ConfigIssue(path: url.path, message: "cannot be read (no such file, or no permission)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError([ConfigIssue(path: url.path, message: "is not UTF-8 text")])
        }
        return try parse(text, source: url.lastPathComponent, defaultName: url.deletingPathExtension().lastPathComponent, catalog: catalog)
    }

    /// Parses and validates a config; every problem is reported, one line each.
    /// The trainable section is checked by building its factory once.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "tune",
                             catalog: TrainableCatalog = .standard) throws -> TuneConfig {
        let doc = try ConfigDocument.parse(text, source: source)
        guard let top = doc.objectMembers else {
            throw ConfigError([ConfigIssue(path: source, message: "must be a mapping of settings, got \(doc.kindName)")])
        }
        var issues: [ConfigIssue] = []
        func field(_ k: String) -> JSONValue? { top.first { $0.key == k }?.value }
        let known = ["name", "seed", "metric", "mode", "scheduler", "farm", "trainable", "space"]
        for (k, _) in top where !known.contains(k) {
            issues.append(ConfigIssue(path: k, message: "is not a setting (settings: \(known.joined(separator: ", ")))"))
        }

        // name, seed, metric, mode
        var name = defaultName
        if let v = field("name") {
            if let s = v.stringValue, !s.isEmpty, !s.contains("/"), s != ".", s != ".." { name = s }
            else { issues.append(ConfigIssue(path: "name", message: "must be a non-empty name without '/'")) }
        }
        var seed: UInt64 = 0
        if let v = field("seed") {
            if let i = v.intValue, i >= 0 { seed = UInt64(i) }
            else { issues.append(ConfigIssue(path: "seed", message: "must be a non-negative integer, got \(v)")) }
        }
        var metric = "metric"
        if let v = field("metric") {
            if let s = v.stringValue, !s.isEmpty { metric = s }
            else { issues.append(ConfigIssue(path: "metric", message: "must be the metric's name")) }
        }
        var mode = MetricMode.min
        if let v = field("mode") {
            if let s = v.stringValue, let m = MetricMode(rawValue: s) { mode = m }
            else { issues.append(ConfigIssue(path: "mode", message: "must be min or max, got \(v)")) }
        }

        // space
        var space: SearchSpace?
        if let v = field("space") {
            do { space = try SearchSpace(json: v) } catch let e as ConfigError { issues += e.issues }
        } else {
            issues.append(ConfigIssue(path: "space", message: "is missing: define the hyperparameters to search"))
        }

        // scheduler
        let scheduler = parseScheduler(field("scheduler"), gridSize: space?.gridSize ?? 1, issues: &issues)

        // farm
        var jobTimeout: Double?
        if let v = field("farm") {
            if let members = v.objectMembers {
                for (k, value) in members {
                    if k == "job_timeout" {
                        if let d = value.doubleValue, d > 0 { jobTimeout = d }
                        else { issues.append(ConfigIssue(path: "farm.job_timeout", message: "must be a positive number of seconds")) }
                    } else {
                        issues.append(ConfigIssue(path: "farm.\(k)", message: "is not a setting (settings: job_timeout)"))
                    }
                }
            } else { issues.append(ConfigIssue(path: "farm", message: "must be a mapping")) }
        }

        // trainable
        var trainableType = ""
        var section = TrainableSection(fields: [])
        if let v = field("trainable") {
            if let members = v.objectMembers {
                section = TrainableSection(fields: members)
                if let t = v["type"]?.stringValue {
                    trainableType = t
                    if catalog.builder(named: t) == nil {
                        issues.append(ConfigIssue(path: "trainable.type", message: "unknown trainable '\(t)' (expected one of \(catalog.names.joined(separator: ", ")))"))
                    }
                } else {
                    issues.append(ConfigIssue(path: "trainable.type", message: "is missing (one of \(catalog.names.joined(separator: ", ")))"))
                }
            } else { issues.append(ConfigIssue(path: "trainable", message: "must be a mapping with a 'type'")) }
        } else {
            issues.append(ConfigIssue(path: "trainable", message: "is missing: say what to train (type: \(catalog.names.joined(separator: ", ")))"))
        }

        guard issues.isEmpty, let space, let scheduler else { throw ConfigError(issues) }
        let config = TuneConfig(name: name, seed: seed, metric: metric, mode: mode, scheduler: scheduler, jobTimeout: jobTimeout,
                                trainableType: trainableType, trainable: section, space: space, sourceText: text)
        _ = try config.makeTrainableFactory(catalog: catalog)
        return config
    }

    private static func parseScheduler(_ v: JSONValue?, gridSize: Int, issues: inout [ConfigIssue]) -> SchedulerSpec? {
        guard let v else {
            issues.append(ConfigIssue(path: "scheduler", message: "is missing (type, eta, min_resource, max_resource, budget)"))
            return nil
        }
        guard let members = v.objectMembers else {
            issues.append(ConfigIssue(path: "scheduler", message: "must be a mapping, got \(v.kindName)"))
            return nil
        }
        let before = issues.count
        func field(_ k: String) -> JSONValue? { members.first { $0.key == k }?.value }
        let known = ["type", "eta", "min_resource", "max_resource", "early_stopping_rate", "brackets", "max_trials", "time_limit", "target"]
        for (k, _) in members where !known.contains(k) {
            issues.append(ConfigIssue(path: "scheduler.\(k)", message: "is not a setting (settings: \(known.joined(separator: ", ")))"))
        }
        var kind = SchedulerKind.asha
        if let t = field("type") {
            if let s = t.stringValue, let k = SchedulerKind(rawValue: s) { kind = k }
            else {
                issues.append(ConfigIssue(path: "scheduler.type", message: "unknown scheduler '\(t.stringValue ?? t.description)' (expected one of \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
        }
        func int(_ k: String, _ fallback: Int?) -> Int? {
            guard let x = field(k) else { return fallback }
            guard let i = x.intValue else { issues.append(ConfigIssue(path: "scheduler.\(k)", message: "must be an integer, got \(x.kindName)")); return nil }
            return i
        }
        func number(_ k: String, _ fallback: Double?) -> Double? {
            guard let x = field(k) else { return fallback }
            guard let d = x.doubleValue, d.isFinite else { issues.append(ConfigIssue(path: "scheduler.\(k)", message: "must be a number, got \(x.kindName)")); return nil }
            return d
        }
        let eta = int("eta", 3)
        let maxResource = number("max_resource", nil)
        let minResource = number("min_resource", kind == .random ? maxResource : 1)
        let s = int("early_stopping_rate", 0)
        let brackets = int("brackets", nil)
        let maxTrials = int("max_trials", nil)
        let timeLimit = number("time_limit", nil)
        let target = number("target", nil)
        if field("max_resource") == nil { issues.append(ConfigIssue(path: "scheduler.max_resource", message: "is missing (R, the resource of a fully trained configuration)")) }
        if let eta, eta < 2 { issues.append(ConfigIssue(path: "scheduler.eta", message: "must be at least 2, got \(eta)")) }
        if let r = minResource, r <= 0 { issues.append(ConfigIssue(path: "scheduler.min_resource", message: "must be positive, got \(r)")) }
        if let R = maxResource, R <= 0 { issues.append(ConfigIssue(path: "scheduler.max_resource", message: "must be positive, got \(R)")) }
        if let r = minResource, let R = maxResource, r > R {
            issues.append(ConfigIssue(path: "scheduler", message: "min_resource (\(r)) is greater than max_resource (\(R))"))
        }
        if let maxTrials, maxTrials < 1 { issues.append(ConfigIssue(path: "scheduler.max_trials", message: "must be at least 1, got \(maxTrials)")) }
        if let timeLimit, timeLimit <= 0 { issues.append(ConfigIssue(path: "scheduler.time_limit", message: "must be a positive number of seconds, got \(timeLimit)")) }
        guard issues.count == before, let eta, let r = minResource, let R = maxResource, let s else { return nil }

        let smax = RungLadder.maxRate(minResource: r, maxResource: R, eta: eta)
        if s < 0 || s > smax {
            issues.append(ConfigIssue(path: "scheduler.early_stopping_rate", message: "must be between 0 and floor(log_\(eta)(\(R)/\(r))) = \(smax), got \(s)"))
        }
        if let brackets {
            if kind != .asyncHyperband {
                issues.append(ConfigIssue(path: "scheduler.brackets", message: "is a setting of async_hyperband only"))
            } else if brackets < 1 || brackets > smax - s + 1 {
                issues.append(ConfigIssue(path: "scheduler.brackets", message: "must be between 1 and \(Swift.max(1, smax - s + 1)), got \(brackets)"))
            }
        }
        var budget = Budget(maxTrials: maxTrials, timeLimit: timeLimit)
        if budget.isUnbounded && [.asha, .asyncHyperband, .random].contains(kind) {
            if kind == .random && gridSize > 1 {
                budget.maxTrials = gridSize
            } else {
                issues.append(ConfigIssue(path: "scheduler", message: "\(kind.rawValue) never ends by itself: set max_trials and/or time_limit"))
            }
        }
        guard issues.count == before else { return nil }
        return SchedulerSpec(kind: kind, eta: eta, minResource: r, maxResource: R, earlyStoppingRate: s,
                             bracketCount: brackets, budget: budget, target: target)
    }
}
