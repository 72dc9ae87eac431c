import CohortCluster
import CohortFiles
import CohortData
import CohortTensor
import CohortTrain
import Foundation

/// Builds the trials of a real network search (`type: mlp` or `type: cnn`) from the
/// `trainable:` section; the hyperparameters come from the space
/// (``NetworkHyperparameters``).
///
/// ```yaml
/// trainable:
///   type: mlp                 # or cnn
///   dataset: fashion-mnist    # digits, fashion-mnist, mnist, an IDX directory, a CSV file
///   data_dir: /path/to/idx    # optional: where the dataset's files are
///   resource: epochs          # or iterations (optimizer steps)
///   metric: accuracy          # validation accuracy (mode: max) or loss (mode: min)
///   validation_fraction: 0.1  # held out of the training set, stratified, seeded
///   schedule: constant        # or cosine, spanning max_resource
///   threads: 1                # OpenBLAS threads per worker
/// ```
///
/// The data is loaded (once per process) while the config is checked, so a missing
/// dataset is a config error reported before anything is written.
public struct NetworkTrainableFactory: TrainableFactory {
    /// What a trial reports: validation accuracy (maximised) or loss (minimised).
    public enum Objective: String, Sendable, CaseIterable { case accuracy, loss }
    /// What the scheduler's resource counts.
    public enum ResourceUnit: String, Sendable, CaseIterable { case epochs, iterations }

    public let kind: ModelSpec.Kind
    public let context: TrainableContext
    public let dataset: String
    public let dataDirectory: String?
    public let unit: ResourceUnit
    public let objective: Objective
    public let validationFraction: Double
    public let schedule: OptimizerSpec.Schedule
    public let threads: Int
    public let data: TuningData

    public init(kind: ModelSpec.Kind, section s: ConfigSection, context: TrainableContext) throws {
        self.kind = kind
        self.context = context
        let datasetName = s.requiredString("dataset") ?? ""
        let directory = s.string("data_dir")
        let defaultObjective: Objective = context.mode == .max ? .accuracy : .loss
        let fraction = s.double("validation_fraction", default: 0.1, min: 0.01, max: 0.5)
        let scheduleName = s.string("schedule", default: OptimizerSpec.Schedule.constant.rawValue, allowed: ["constant", "cosine"])
        threads = s.int("threads", default: 1, min: 1, max: 1024)
        dataset = datasetName
        dataDirectory = directory
        unit = s.choice("resource", ResourceUnit.epochs)
        objective = s.choice("metric", defaultObjective)
        validationFraction = fraction
        schedule = OptimizerSpec.Schedule(rawValue: scheduleName) ?? .constant

        let wanted: MetricMode = objective == .accuracy ? .max : .min
        if context.mode != wanted {
            s.issue("metric", "validation \(objective.rawValue) is \(wanted == .max ? "maximised" : "minimised"): set mode: \(wanted.rawValue) (the config says mode: \(context.mode.rawValue))")
        }
        s.finish(also: ["type"])
        let issues = s.issues
        NetworkHyperparameters.issues(in: context.space, kind: kind).forEach(issues.add)

        var loaded: TuningData?
        if issues.isEmpty {
            do {
                let d = try TuningData.cached(dataset: datasetName, dataDirectory: directory, validationFraction: fraction, seed: context.seed)
                // A network of the default hyperparameters must fit the data's shape
                // (a cnn needs images).
                _ = try NetworkHyperparameters().modelSpec(kind: kind).build(sampleShape: d.train.sampleShape, classes: d.train.classCount)
                loaded = d
            } catch {
                issues.add("trainable.dataset", "\(error)")
            }
        }
        guard issues.isEmpty, let loaded else { throw ConfigError(issues.list) }
        data = loaded
    }

    // MARK: Resource

    /// Optimizer steps in one epoch at `batchSize` (the last partial batch is dropped,
    /// as `cohort train` does).
    public func batchesPerEpoch(batchSize: Int) -> Int {
        data.train.count >= batchSize ? data.train.count / batchSize : 1
    }

    /// The optimizer steps that `resource` stands for.
    public func steps(for resource: Double, batchSize: Int) -> Int {
        switch unit {
        case .epochs: return Int((resource * Double(batchesPerEpoch(batchSize: batchSize))).rounded())
        case .iterations: return Int(resource.rounded())
        }
    }

    // MARK: Trials

    public func make(trial: Int, config: TrialConfig) throws -> any Trainable {
        if BLASRuntime.threads != threads { BLASRuntime.setThreads(threads) }
        return try NetworkTrainable(trial: trial, config: config, factory: self, communicator: LocalCommunicator.single())
    }

    /// A trial trained by the job's group when it has one (each rank a shard of every
    /// batch), else by this rank alone.
    public func make(for job: JobContext) throws -> any Trainable {
        guard let group = job.group, group.size > 1 else { return try make(trial: job.job.trial, config: job.job.config) }
        if BLASRuntime.threads != threads { BLASRuntime.setThreads(threads) }
        return try NetworkTrainable(trial: job.job.trial, config: job.job.config, factory: self, communicator: group)
    }

    public var trainsDataParallel: Bool { true }
}

extension TrainableCatalog {
    /// Registers `mlp` and `cnn`, the networks of CohortTrain as trainables.
    public mutating func registerNetworks() {
        register("mlp") { section, context in try NetworkTrainableFactory(kind: .mlp, section: section, context: context) }
        register("cnn") { section, context in try NetworkTrainableFactory(kind: .cnn, section: section, context: context) }
    }
}
