import CohortFiles
import CohortTune
import Foundation

/// One trial of a pipeline search: its chain's output, found in a cache or computed,
/// then the classifier trained to the job's epochs.
///
/// Each job journals, per stage it touched, where the output came from
/// (`pipeline.<stage>.source`: 0 computed, 1 the worker's memory, 2 the shared disk),
/// the seconds it took to get, the seconds it cost to compute (measured when it was
/// computed), its size and its key; a trace of cache requests is read back from these
/// (``CacheTrace``). Stages above the deepest hit are not touched.
public final class PipelineTrainable: ReportingTrainable {
    public let trial: Int
    public let config: TrialConfig
    let factory: PipelineTrainableFactory
    let disk: DiskStageCache?
    let chain: [PipelineStage]
    let keys: [(key: String, stream: UInt64)]
    private var features: FeatureSet?
    private(set) var classifier: LinearClassifier?
    public private(set) var trainedResource: Double = 0
    public private(set) var extraMetrics: [String: Double] = [:]
    public var asksRetry: Bool { false }

    init(trial: Int, config: TrialConfig, factory: PipelineTrainableFactory, disk: DiskStageCache?) {
        self.trial = trial
        self.config = config
        self.factory = factory
        self.disk = disk
        chain = factory.chain(for: config)
        keys = factory.keys(for: chain)
    }

    // MARK: The chain

    /// The output of stages 0 ... `depth`, from the caches or computed from the
    /// output above it.
    func output(depth: Int) throws -> FeatureSet {
        guard depth >= 0 else { return factory.input }
        let stage = chain[depth], key = keys[depth].key
        let name = stage.kind.rawValue
        let started = Date()
        func note(_ source: StageSource, _ f: FeatureSet, cost: Double, seconds: Double) {
            extraMetrics["pipeline.\(name).source"] = Double(source.rawValue)
            extraMetrics["pipeline.\(name).seconds"] = seconds
            extraMetrics["pipeline.\(name).cost"] = cost
            extraMetrics["pipeline.\(name).bytes"] = Double(f.bytes)
            extraMetrics["pipeline.\(name).key"] = Double(keys[depth].stream & StableHash.keyMask)
        }
        if factory.reuse {
            if let hit = factory.memory.get(key) {
                note(.memory, hit.features, cost: hit.cost, seconds: Date().timeIntervalSince(started))
                return hit.features
            }
            if let hit = disk?.get(key) {
                factory.memory.put(key, hit.features, cost: hit.cost)
                note(.disk, hit.features, cost: hit.cost, seconds: Date().timeIntervalSince(started))
                return hit.features
            }
        }
        // Another worker computing this output right now: wait for it rather than
        // compute it twice.
        var claimed = false
        if factory.reuse, let disk {
            if disk.claim(key) {
                claimed = true
            } else if let hit = disk.awaitClaimed(key) {
                factory.memory.put(key, hit.features, cost: hit.cost)
                note(.disk, hit.features, cost: hit.cost, seconds: Date().timeIntervalSince(started))
                return hit.features
            } else {
                claimed = disk.claim(key)
            }
        }
        defer { if claimed { disk?.release(key) } }
        let above = try output(depth: depth - 1)
        let computeStart = Date()
        let out = try stage.apply(to: above, seed: factory.context.seed, streamKey: keys[depth].stream)
        let cost = Date().timeIntervalSince(computeStart)
        if factory.reuse {
            factory.memory.put(key, out, cost: cost)
            // A cache that cannot be written is a cache miss next time, not a failure.
            try? disk?.put(key, out, cost: cost)
        }
        note(.computed, out, cost: cost, seconds: cost)
        return out
    }

    private func prepared() throws -> (FeatureSet, LinearClassifier) {
        if let features, let classifier { return (features, classifier) }
        let f = try output(depth: chain.count - 1)
        let c = LinearClassifier(columns: f.columns, classes: factory.data.train.classCount,
                                 settings: factory.classifierSettings(for: config), seed: factory.context.seed, trial: trial)
        features = f
        classifier = c
        return (f, c)
    }

    func steps(for resource: Double, classifier c: LinearClassifier) -> Int {
        Int((resource * Double(c.batchesPerEpoch(rows: factory.data.train.count))).rounded())
    }

    // MARK: Trainable

    public func train(to resource: Double) throws {
        let (f, c) = try prepared()
        let started = Date()
        try c.train(f.train, labels: factory.data.train.labels, until: steps(for: resource, classifier: c))
        extraMetrics["pipeline.classifier.seconds", default: 0] += Date().timeIntervalSince(started)
        trainedResource = max(trainedResource, resource)
    }

    public func evaluate() throws -> Double {
        let (f, c) = try prepared()
        return c.accuracy(f.validation, labels: factory.data.validation.labels)
    }

    public func testMetric() throws -> Double? {
        let (f, c) = try prepared()
        return c.accuracy(f.test, labels: factory.data.test.labels)
    }

    public func save(to url: URL) throws {
        let (_, c) = try prepared()
        let data = c.encoded(header: [("trial", .int(trial)), ("config", .string(config.description)),
                                      ("resource", .double(trainedResource))])
        try AtomicFile.write(data, to: url)
    }

    public func restore(from url: URL, resource: Double) throws {
        let (_, c) = try prepared()
        let header = try c.restore(from: try Data(contentsOf: url))
        guard header["trial"]?.intValue == trial, header["config"]?.stringValue == config.description else {
            throw TrainableError.badCheckpoint(url.path, "it belongs to trial \(header["trial"]?.description ?? "?") (\(header["config"]?.stringValue ?? "?")), not trial \(trial) (\(config))")
        }
        let expected = steps(for: resource, classifier: c)
        guard c.step == expected else {
            throw TrainableError.badCheckpoint(url.path, "it holds \(c.step) optimizer steps, but resource \(JSONValue.number(resource)) is \(expected) steps")
        }
        trainedResource = resource
    }
}
