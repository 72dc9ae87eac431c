import CohortCluster
import CohortFiles
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

/// A trainable that reports more than its metric: extra numeric results (journaled
/// with the metric) and, after a timeout, whether the job should run once more.
public protocol ReportingTrainable: Trainable {
    var extraMetrics: [String: Double] { get }
    var asksRetry: Bool { get }
}

/// Builds the trainable of each trial. One factory per run, made from the config's
/// `trainable:` section on every rank.
public protocol TrainableFactory: Sendable {
    /// A fresh trainable for `trial` with hyperparameters `config`, at resource 0.
    func make(trial: Int, config: TrialConfig) throws -> any Trainable

    /// Whether checkpoints are files (false for zero-cost benchmarks whose state is
    /// only the resource level).
    var writesCheckpoints: Bool { get }

    /// The trainable that runs `job` on a worker. Trainables that need to know where
    /// they run (a user's program: its log files, devices) read it here; the default
    /// is ``make(trial:config:)``.
    func make(for job: JobContext) throws -> any Trainable

    /// What the journal's `run` event records of the trainable (a user's program: its
    /// command and the digests of its files); `nil` for built-in trainables.
    func runRecord() -> JSONValue?

    /// Called once when the worker stops: ends what the factory started (a
    /// persistent worker process).
    func workerWillStop()

    /// Whether a trial can be trained by a group of ranks over the job's
    /// ``JobContext/group`` (`farm.ranks_per_trial` > 1).
    var trainsDataParallel: Bool { get }

    /// The keys of the intermediate results a trial of `config` builds on, shallowest
    /// first (a pipeline's stage outputs); empty when the trainable reuses nothing.
    /// The coordinator's ``PrefixAffinity`` matches them against what each worker
    /// recently built.
    func reuseKeys(for config: TrialConfig) -> [String]
}

extension TrainableFactory {
    public var writesCheckpoints: Bool { true }
    public func make(for job: JobContext) throws -> any Trainable { try make(trial: job.job.trial, config: job.job.config) }
    public func runRecord() -> JSONValue? { nil }
    public func workerWillStop() {}
    public var trainsDataParallel: Bool { false }
    public func reuseKeys(for config: TrialConfig) -> [String] { [] }
}

/// Where a job runs: the job, the run directory, the worker, the devices assigned
/// to that worker, and the group of ranks training it together.
public struct JobContext {
    public var job: Job
    public var run: RunDirectory
    /// The worker's rank.
    public var worker: Int
    /// True when rank 0 only reads a finished job's record (the best trial's test
    /// metric): nothing may be started or trained.
    public var recordOnly = false
    /// Variables that assign the worker its devices (`CUDA_VISIBLE_DEVICES`), empty
    /// when it has none.
    public var deviceEnvironment: [String: String]
    /// The ranks that train this job together (`farm.ranks_per_trial` > 1), this rank
    /// among them; `nil` when the worker trains alone. Group rank 0 is the leader,
    /// which alone saves the checkpoint and answers the coordinator.
    public var group: Communicator?

    public init(job: Job, run: RunDirectory, worker: Int, deviceEnvironment: [String: String] = [:], group: Communicator? = nil) {
        self.job = job
        self.run = run
        self.worker = worker
        self.deviceEnvironment = deviceEnvironment
        self.group = group
    }

    /// Whether this rank writes the job's checkpoint: alone, or as its group's leader.
    public var savesCheckpoint: Bool { (group?.rank ?? 0) == 0 }
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
    /// Reads the `trainable:` section (recording its problems in the section's issues,
    /// or throwing) and returns the factory.
    public typealias Builder = @Sendable (_ section: ConfigSection, _ context: TrainableContext) throws -> any TrainableFactory

    public private(set) var builders: [(name: String, build: Builder)] = []

    public init() {}

    public mutating func register(_ name: String, _ build: @escaping Builder) {
        builders.removeAll { $0.name == name }
        builders.append((name, build))
    }

    public var names: [String] { builders.map(\.name) }

    public func builder(named name: String) -> Builder? { builders.first { $0.name == name }?.build }

    /// Why `type` names no trainable of this catalog.
    func unknownTypeMessage(_ type: String) -> String {
        "unknown trainable '\(type)' (expected one of \(names.joined(separator: ", ")))"
    }

    /// The factory the `trainable:` section `section` describes (its `type` names the
    /// builder); throws every problem of the section at once.
    public func makeFactory(_ section: JSONValue, context: TrainableContext) throws -> any TrainableFactory {
        let issues = ConfigIssues()
        guard let s = ConfigSection(section, path: "trainable", issues: issues, required: true) else { throw ConfigError(issues.list) }
        guard let type = s.requiredString("type", hint: "one of \(names.joined(separator: ", "))") else { throw ConfigError(issues.list) }
        guard let build = builder(named: type) else { throw ConfigError(at: "trainable.type", unknownTypeMessage(type)) }
        let factory = try build(s, context)
        s.finish()
        try issues.throwIfAny()
        return factory
    }

    /// The built-in trainables.
    public static var standard: TrainableCatalog {
        var c = TrainableCatalog()
        c.register("surrogate") { section, context in try SurrogateTrainableFactory(section: section, context: context) }
        c.registerNetworks()
        c.registerCharacterModel()
        c.register("command") { section, context in try CommandTrainableFactory(section: section, context: context) }
        return c
    }
}
