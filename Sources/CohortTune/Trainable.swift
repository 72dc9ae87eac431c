import Foundation

/// A model a search can train: what users implement to tune their own code.
///
/// A worker builds one per job from the trial's configuration, restores the
/// checkpoint of the trial's previous rung when the job is a promotion, trains up to
/// the job's resource, evaluates, and saves a checkpoint for the next rung. Jobs of
/// one trial may run on different workers, so everything needed to continue must
/// be in the checkpoint (including random-stream states, for reproducibility).
public protocol Trainable: AnyObject {
    /// Resource (epochs, iterations, ...) trained so far.
    var trainedResource: Double { get }

    /// Continues training until `resource` units in total.
    func train(to resource: Double) throws

    /// The validation metric the search optimises.
    func evaluate() throws -> Double

    /// The metric on held-out test data, reported for the best configuration
    /// (`nil` when the trainable has no test split).
    func testMetric() throws -> Double?

    /// Writes everything needed to continue training later.
    func save(to url: URL) throws

    /// Restores a checkpoint written by ``save(to:)`` after training to `resource`.
    func restore(from url: URL, resource: Double) throws
}

/// Builds the trainable of each trial. One factory per run, made from the config's
/// `trainable:` section on every rank.
public protocol TrainableFactory: Sendable {
    /// A fresh trainable for `trial` with hyperparameters `config`, at resource 0.
    func make(trial: Int, config: TrialConfig) throws -> any Trainable

    /// Whether checkpoints are files (false for zero-cost benchmarks whose state is
    /// only the resource level).
    var writesCheckpoints: Bool { get }
}

extension TrainableFactory {
    public var writesCheckpoints: Bool { true }
}

/// What a trainable's builder may read besides its own section.
public struct TrainableContext: Sendable {
    public var space: SearchSpace
    public var seed: UInt64
    public var mode: MetricMode
    public var maxResource: Double
    public init(space: SearchSpace, seed: UInt64, mode: MetricMode, maxResource: Double) {
        self.space = space
        self.seed = seed
        self.mode = mode
        self.maxResource = maxResource
    }
}

/// The trainable types a config may name, each with a builder that validates its
/// section (collecting every problem) and returns a factory.
public struct TrainableCatalog: Sendable {
    public typealias Builder = @Sendable (_ section: TrainableSection, _ context: TrainableContext) throws -> any TrainableFactory

    public private(set) var builders: [(name: String, build: Builder)] = []

    public init() {}

    public mutating func register(_ name: String, _ build: @escaping Builder) {
        builders.removeAll { $0.name == name }
        builders.append((name, build))
    }

    public var names: [String] { builders.map(\.name) }

    public func builder(named name: String) -> Builder? { builders.first { $0.name == name }?.build }

    /// The built-in trainables.
    public static var standard: TrainableCatalog {
        var c = TrainableCatalog()
        c.register("surrogate") { section, context in try SurrogateTrainableFactory(section: section, context: context) }
        c.registerNetworks()
        return c
    }
}

/// A trainable's config section with typed, path-aware readers: each reader records
/// a problem and returns the default, so a builder reports every issue at once by
/// calling ``finish()`` at the end.
public struct TrainableSection: Sendable {
    public let fields: [(key: String, value: JSONValue)]
    public let path: String
    public private(set) var issues: [ConfigIssue] = []
    private var read: Set<String> = ["type"]

    public init(fields: [(key: String, value: JSONValue)], path: String = "trainable") {
        self.fields = fields
        self.path = path
    }

    public func value(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }

    public mutating func double(_ key: String, default fallback: Double, min: Double? = nil, max: Double? = nil) -> Double {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let d = v.doubleValue, d.isFinite else { issue(key, "must be a number, got \(v.kindName)"); return fallback }
        if let min, d < min { issue(key, "must be at least \(min), got \(d)"); return fallback }
        if let max, d > max { issue(key, "must be at most \(max), got \(d)"); return fallback }
        return d
    }

    public mutating func int(_ key: String, default fallback: Int, min: Int? = nil) -> Int {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let i = v.intValue else { issue(key, "must be an integer, got \(v.kindName)"); return fallback }
        if let min, i < min { issue(key, "must be at least \(min), got \(i)"); return fallback }
        return i
    }

    public mutating func bool(_ key: String, default fallback: Bool) -> Bool {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let b = v.boolValue else { issue(key, "must be true or false, got \(v.kindName)"); return fallback }
        return b
    }

    public mutating func string(_ key: String, default fallback: String?, allowed: [String]? = nil) -> String? {
        read.insert(key)
        guard let v = value(key) else {
            if fallback == nil { issue(key, "is missing") }
            return fallback
        }
        guard let s = v.stringValue else { issue(key, "must be a name, got \(v.kindName)"); return fallback }
        if let allowed, !allowed.contains(s) {
            issue(key, "unknown value '\(s)' (expected one of \(allowed.joined(separator: ", ")))")
            return fallback
        }
        return s
    }

    public mutating func issue(_ key: String, _ message: String) {
        issues.append(ConfigIssue(path: "\(path).\(key)", message: message))
    }

    /// Throws every problem found, including keys no reader asked for.
    public mutating func finish() throws {
        for (k, _) in fields where !read.contains(k) {
            issues.append(ConfigIssue(path: "\(path).\(k)", message: "is not a setting of this trainable"))
        }
        if !issues.isEmpty { throw ConfigError(issues) }
    }
}
