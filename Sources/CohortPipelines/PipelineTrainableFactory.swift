import CohortFiles
import CohortData
import CohortTensor
import CohortTune
import Foundation

/// Builds the trials of a pipeline search (`type: pipeline`): a chain of featurising
/// stages and a linear classifier trained by epochs, whose stage outputs are reused
/// across trials through a worker's memory cache and a cache shared in the run
/// directory.
///
/// ```yaml
/// trainable:
///   type: pipeline
///   dataset: fashion-mnist        # digits, fashion-mnist, mnist, an IDX directory, a CSV file
///   validation_fraction: 0.1
///   stages: [standardize, pca, rff]   # any of standardize, pca, rff, poly, in order
///   classifier: softmax           # or svm (multiclass hinge)
///   reuse: true                   # false: every job computes its whole chain
///   cache:
///     memory: 1GB                 # per worker process
///     disk: 4GB                   # shared by the workers, in <run>/cache/pipeline
///     policy: lru                 # lru, lfu or cost (recompute cost x uses / size)
///   threads: 1                    # OpenBLAS threads per worker
/// space:
///   pca.components: {type: int, low: 16, high: 128, gridded: 3}   # <stage>.<setting>
///   rff.dimension: {type: int, low: 256, high: 1024, gridded: 3}
///   rff.bandwidth: {type: loguniform, low: 0.3, high: 3, gridded: 3}
///   classifier.learning_rate: {type: loguniform, low: 1.0e-3, high: 1}
///   classifier.l2: {type: loguniform, low: 1.0e-6, high: 1.0e-2}
/// ```
///
/// The resource is epochs of the classifier; the metric is validation accuracy.
/// `gridded: G` (gridded random search) draws G values of an upstream setting once
/// per run, so prefixes repeat and reuse pays.
public struct PipelineTrainableFactory: TrainableFactory {
    public let stages: [PipelineStage.Kind]
    public let loss: LinearClassifier.Loss
    public let context: TrainableContext
    public let dataset: String
    public let data: TuningData
    /// The data every chain starts from (the splits' features, flattened).
    public let input: FeatureSet
    /// Digest of the data and its split: the root of every key.
    public let dataDigest: UInt64
    public let reuse: Bool
    public let memory: MemoryStageCache
    public let diskCapacity: Int
    public let policy: CachePolicy
    public let threads: Int

    /// The classifier's settings a space may give, with their defaults.
    public static let classifierSettings: [(name: String, fallback: Double)] = [
        ("learning_rate", 0.1), ("l2", 1e-4), ("momentum", 0.9), ("batch_size", 128),
    ]

    public init(section s: ConfigSection, context: TrainableContext) throws {
        self.context = context
        dataset = s.requiredString("dataset") ?? ""
        let directory = s.string("data_dir")
        let fraction = s.double("validation_fraction", default: 0.1, min: 0.01, max: 0.5)
        loss = s.choice("classifier", LinearClassifier.Loss.softmax)
        reuse = s.bool("reuse", default: true)
        threads = s.int("threads", default: 1, min: 1, max: 1024)
        var names: [PipelineStage.Kind] = []
        var stagesValid = true
        if let list = s.value("stages") {
            if let items = list.arrayValue, !items.isEmpty {
                for (i, item) in items.enumerated() {
                    let known = PipelineStage.Kind.allCases.map(\.rawValue)
                    guard let name = item.stringValue, let kind = PipelineStage.Kind(rawValue: name) else {
                        let given = item.stringValue ?? item.kindName
                        let near = item.stringValue.flatMap { ConfigSection.nearestKey(to: $0, in: known) }
                        s.issue("stages[\(i)]", "unknown stage '\(given)' (stages: \(known.joined(separator: ", "))\(near.map { "; did you mean \($0)?" } ?? ""))")
                        stagesValid = false
                        continue
                    }
                    if names.contains(kind) { s.issue("stages[\(i)]", "repeats the stage \(name): each stage may appear once") }
                    names.append(kind)
                }
            } else {
                s.issue("stages", "must be a non-empty list of stages (standardize, pca, rff, poly)")
                stagesValid = false
            }
        } else {
            s.issue("stages", "is missing: list the featurising stages, e.g. [standardize, pca, rff]")
            stagesValid = false
        }
        stages = names
        var memoryBytes = 1_000_000_000, diskBytes = 4_000_000_000
        var policy = CachePolicy.lru
        if let cache = s.section("cache") {
            func size(_ key: String, _ fallback: Int) -> Int {
                guard let v = cache.value(key) else { return fallback }
                switch ByteSize.parse(v) {
                case let .success(bytes): return bytes
                case let .failure(problem): cache.issue(key, problem.message); return fallback
                }
            }
            memoryBytes = size("memory", memoryBytes)
            diskBytes = size("disk", diskBytes)
            policy = cache.choice("policy", CachePolicy.lru)
            cache.finish()
        }
        self.policy = policy
        diskCapacity = diskBytes
        memory = MemoryStageCache(capacity: memoryBytes, policy: policy)
        if context.mode != .max { s.issue("metric", "a pipeline reports validation accuracy, which is maximised: set mode: max") }
        s.finish(also: ["type"])
        let issues = s.issues
        // The space is checked against a valid chain only (a misspelt stage would
        // otherwise also make its settings "not listed").
        if stagesValid { for issue in Self.spaceIssues(context.space, stages: names) { issues.add(issue) } }

        var loaded: TuningData?
        if issues.isEmpty {
            do { loaded = try TuningData.cached(dataset: dataset, dataDirectory: directory, validationFraction: fraction, seed: context.seed) } catch {
                issues.add("trainable.dataset", "\(error)")
            }
        }
        guard issues.isEmpty, let loaded else { throw ConfigError(issues.list) }
        data = loaded
        input = FeatureSet((loaded.train, loaded.validation, loaded.test))
        var h = StableHash()
        h.add(input.train); h.add(input.validation); h.add(input.test)
        h.add(loaded.train.labels); h.add(UInt64(input.columns))
        dataDigest = h.value
    }

    /// Every space parameter must be `<stage>.<setting>` of a stage in the chain, or
    /// `classifier.<setting>`.
    static func spaceIssues(_ space: SearchSpace, stages: [PipelineStage.Kind]) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for p in space.parameters {
            let parts = p.name.split(separator: ".", maxSplits: 1).map(String.init)
            let at = "space.\(p.name)"
            guard parts.count == 2 else {
                issues.append(ConfigIssue(path: at, message: "a pipeline's parameters are named <stage>.<setting> (for example pca.components or classifier.learning_rate)"))
                continue
            }
            let settings: [String]
            if parts[0] == "classifier" {
                settings = classifierSettings.map(\.name)
            } else if let kind = PipelineStage.Kind(rawValue: parts[0]) {
                guard stages.contains(kind) else {
                    issues.append(ConfigIssue(path: at, message: "sets the stage \(parts[0]), which trainable.stages does not list"))
                    continue
                }
                settings = kind.settings.map(\.name)
            } else {
                let known = PipelineStage.Kind.allCases.map(\.rawValue) + ["classifier"]
                let near = ConfigSection.nearestKey(to: parts[0], in: known)
                issues.append(ConfigIssue(path: at, message: "unknown stage '\(parts[0])' (stages: \(known.joined(separator: ", "))\(near.map { "; did you mean \($0)?" } ?? ""))"))
                continue
            }
            if !settings.contains(parts[1]) {
                let list = settings.isEmpty ? "it has none" : "its settings: \(settings.joined(separator: ", "))"
                issues.append(ConfigIssue(path: at, message: "\(parts[0]) has no setting '\(parts[1])' (\(list))"))
            }
        }
        return issues
    }

    // MARK: Chains and keys

    /// The stages of a trial, with the settings its configuration gives.
    public func chain(for config: TrialConfig) -> [PipelineStage] {
        stages.map { kind in
            func value(_ name: String) -> Double {
                config.double("\(kind.rawValue).\(name)", default: kind.settings.first { $0.name == name }?.fallback ?? 0)
            }
            func whole(_ name: String) -> Int { Int(exactly: value(name).rounded()) ?? 0 }
            switch kind {
            case .standardize: return .standardize
            case .pca: return .pca(components: whole("components"))
            case .rff: return .rff(dimension: whole("dimension"), bandwidth: value("bandwidth"))
            case .poly: return .poly(degree: whole("degree"))
            }
        }
    }

    /// The key of each stage's output: a hash of the stage, its settings, the key
    /// above it and (at the root) the data's digest; random features also hash the
    /// run's seed, which draws them.
    public func keys(for chain: [PipelineStage]) -> [(key: String, stream: UInt64)] {
        var upstream = dataDigest
        return chain.map { stage in
            var h = StableHash()
            h.add(upstream)
            h.add(stage.description)
            if case .rff = stage { h.add(context.seed) }
            upstream = h.value
            return (h.key, h.value)
        }
    }

    public func reuseKeys(for config: TrialConfig) -> [String] { keys(for: chain(for: config)).map(\.key) }

    /// The classifier settings of a trial.
    public func classifierSettings(for config: TrialConfig) -> LinearClassifier.Settings {
        func value(_ name: String) -> Double {
            config.double("classifier.\(name)", default: Self.classifierSettings.first { $0.name == name }?.fallback ?? 0)
        }
        return .init(loss: loss, learningRate: Float(value("learning_rate")), l2: Float(value("l2")), momentum: Float(value("momentum")),
                     batchSize: max(1, min(65_536, Int(exactly: value("batch_size").rounded()) ?? 128)))
    }

    // MARK: Trials

    public func make(trial: Int, config: TrialConfig) throws -> any Trainable {
        if BLASRuntime.threads != threads { BLASRuntime.setThreads(threads) }
        return PipelineTrainable(trial: trial, config: config, factory: self, disk: nil)
    }

    public func make(for job: JobContext) throws -> any Trainable {
        if BLASRuntime.threads != threads { BLASRuntime.setThreads(threads) }
        let disk = DiskStageCache(directory: job.run.url.appendingPathComponent("cache/pipeline"), capacity: diskCapacity, policy: policy)
        return PipelineTrainable(trial: job.job.trial, config: job.job.config, factory: self, disk: disk)
    }
}

extension TrainableCatalog {
    /// Registers `pipeline`, the reuse-aware pipelines of this module.
    public mutating func registerPipelines() {
        register("pipeline") { section, context in try PipelineTrainableFactory(section: section, context: context) }
    }

    /// The built-in trainables and the pipelines.
    public static var withPipelines: TrainableCatalog {
        var c = TrainableCatalog.standard
        c.registerPipelines()
        return c
    }
}
