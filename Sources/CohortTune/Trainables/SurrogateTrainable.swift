import CohortFiles
import Foundation
import CohortTensor

/// Synthetic learning curves for scaling experiments and tests without real training.
///
/// Each configuration has a loss curve
///
///     loss(t) = A + (start - A) * (1 + t / scale)^(-c)  (+ noise)
///
/// whose asymptote A grows with the configuration's distance from an optimum that the
/// seed places in the space, and whose speed c varies along another direction, so
/// that curves cross and early rungs rank configurations imperfectly, as real ones
/// do. The noise at resource t is drawn from a stream named by (seed, trial, t): the
/// value at t is the same whether the trial got there in one job or resumed from a
/// checkpoint. With `mode: max` the metric is an accuracy-like 1 - loss / start.
///
/// Training sleeps `seconds_per_unit` per resource unit, standing in for real work;
/// with 0 and `checkpoints: false` it costs nothing (coordinator benchmarks).
public final class SurrogateTrainable: Trainable {
    public let trial: Int
    public let curve: SurrogateCurve
    public let secondsPerUnit: Double
    public let failsAt: Double?
    public private(set) var trainedResource: Double = 0

    init(trial: Int, curve: SurrogateCurve, secondsPerUnit: Double, failsAt: Double?) {
        self.trial = trial
        self.curve = curve
        self.secondsPerUnit = secondsPerUnit
        self.failsAt = failsAt
    }

    public func train(to resource: Double) throws {
        let target = Swift.max(resource, trainedResource)
        if let failsAt, target >= failsAt {
            let spent = Swift.max(0, failsAt - trainedResource)
            if secondsPerUnit > 0, spent > 0 { Thread.sleep(forTimeInterval: spent * secondsPerUnit) }
            throw SurrogateDiverged(trial: trial, resource: failsAt)
        }
        let units = target - trainedResource
        if secondsPerUnit > 0, units > 0 { Thread.sleep(forTimeInterval: units * secondsPerUnit) }
        trainedResource = target
    }

    public func evaluate() throws -> Double { curve.metric(trial: trial, at: trainedResource) }

    /// The curve without noise at the end of training: the "test" metric.
    public func testMetric() throws -> Double? { curve.metric(trial: trial, at: trainedResource, noisy: false) }

    public func save(to url: URL) throws {
        let json: JSONValue = .object([("trial", .int(trial)), ("resource", .number(trainedResource))])
        try Data((json.description + "\n").utf8).write(to: url, options: .atomic)
    }

    public func restore(from url: URL, resource: Double) throws {
        if FileManager.default.fileExists(atPath: url.path) {
            let json = try JSONValue.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
            guard json["trial"]?.intValue == trial, let saved = json["resource"]?.doubleValue else {
                throw TrainableError.badCheckpoint(url.path, "it belongs to another trial")
            }
            trainedResource = saved
        } else {
            trainedResource = resource
        }
    }
}

/// A surrogate trial that "diverges" (for failure handling tests and demos).
public struct SurrogateDiverged: Error, CustomStringConvertible {
    public var trial: Int
    public var resource: Double
    public var description: String { "trial \(trial) diverged at resource \(JSONValue.number(resource))" }
}

/// Errors of trainables in this module.
public enum TrainableError: Error, CustomStringConvertible {
    case badCheckpoint(String, String)
    public var description: String {
        switch self {
        case let .badCheckpoint(path, why): return "checkpoint \(path) cannot be used: \(why)"
        }
    }
}

/// The learning-curve family of the surrogate, a pure function of (seed, config).
public struct SurrogateCurve: Sendable {
    public var asymptote: Double
    public var speed: Double
    public var start: Double
    public var scale: Double
    public var noise: Double
    public var seed: UInt64
    public var mode: MetricMode

    /// The loss (or accuracy-like metric for `.max`) at resource `t`.
    public func metric(trial: Int, at t: Double, noisy: Bool = true) -> Double {
        var loss = asymptote + (start - asymptote) * pow(1 + t / scale, -speed)
        if noisy && noise > 0 {
            let step = UInt64(Swift.max(0, (t * 1000).rounded()))
            var rng = RandomStream(seed: seed, stream: [SurrogateCurve.noiseStream, UInt64(trial), step])
            loss += noise * rng.normal()
        }
        return mode == .min ? loss : 1 - loss / start
    }

    static let noiseStream: UInt64 = 0x5355_5252_4F47_4154 // "SURROGAT"
    static let shapeStream: UInt64 = 0x5348_4150_4500_0000 // "SHAPE"
    static let durationStream: UInt64 = 0x4455_5241_5449_4F4E // "DURATION"
}

/// Builds surrogate trials from the `trainable:` section.
///
/// Settings: `seconds_per_unit` (0), `noise` (0.02), `floor` (best reachable loss,
/// 0.1), `start` (loss at resource 0, 2.5), `scale` (resource over which curves bend,
/// max_resource / 9), `failure_rate` (fraction of trials that diverge, 0),
/// `time_spread` (0: each trial's seconds per unit is `seconds_per_unit * (1 +
/// time_spread * u)` with u uniform in [0, 1) drawn from (seed, trial), so that jobs
/// of different trials end at distinct times instead of in ties), `checkpoints` (true).
public struct SurrogateTrainableFactory: TrainableFactory {
    public var context: TrainableContext
    public var secondsPerUnit: Double
    public var noise: Double
    public var floor: Double
    public var start: Double
    public var scale: Double
    public var failureRate: Double
    public var timeSpread: Double
    public var writesCheckpoints: Bool

    public init(section s: ConfigSection, context: TrainableContext) throws {
        self.context = context
        secondsPerUnit = s.double("seconds_per_unit", default: 0, min: 0, max: 86_400)
        noise = s.double("noise", default: 0.02, min: 0)
        floor = s.double("floor", default: 0.1, min: 0)
        start = s.double("start", default: 2.5, min: 0)
        scale = s.double("scale", default: Swift.max(context.maxResource / 9, 1e-9), min: 1e-9)
        failureRate = s.double("failure_rate", default: 0, min: 0, max: 1)
        timeSpread = s.double("time_spread", default: 0, min: 0, max: 100)
        writesCheckpoints = s.bool("checkpoints", default: true)
        if start <= floor { s.issue("start", "must be above floor (\(floor)), got \(start)") }
    }

    /// The curve of a configuration.
    public func curve(for config: TrialConfig) -> SurrogateCurve {
        let shape = RandomStream(seed: context.seed, stream: [SurrogateCurve.shapeStream])
        let u = context.space.unitCoordinates(of: config)
        var distance = 0.0, weightSum = 0.0, projection = 0.0
        for (i, p) in context.space.parameters.enumerated() {
            if case .constant = p.domain { continue }
            var rng = shape.derived(SearchSpace.nameHash(p.name))
            let optimum = 0.15 + 0.7 * rng.uniformDouble()
            let weight = 0.5 + rng.uniformDouble()
            let direction = rng.uniformDouble() * 2 - 1
            distance += weight * (u[i] - optimum) * (u[i] - optimum)
            weightSum += weight
            projection += direction * u[i]
        }
        let d = weightSum > 0 ? distance / weightSum : 0
        let asymptote = floor + (start - floor) * Swift.min(0.9, 2.5 * d)
        let speed = 0.5 + 0.75 * (1 + sin(2 * Double.pi * projection))
        return SurrogateCurve(asymptote: asymptote, speed: speed, start: start, scale: scale,
                              noise: noise, seed: context.seed, mode: context.mode)
    }

    /// The resource at which `trial` diverges, or `nil` (a pure function of seed and trial).
    public func failurePoint(trial: Int) -> Double? {
        guard failureRate > 0 else { return nil }
        var rng = RandomStream(seed: context.seed, stream: [SurrogateCurve.shapeStream, UInt64(trial)])
        return rng.uniformDouble() < failureRate ? context.maxResource * rng.uniformDouble() : nil
    }

    /// Seconds one resource unit of `trial` takes.
    public func secondsPerUnit(trial: Int) -> Double {
        guard timeSpread > 0 else { return secondsPerUnit }
        var rng = RandomStream(seed: context.seed, stream: [SurrogateCurve.durationStream, UInt64(trial)])
        return secondsPerUnit * (1 + timeSpread * rng.uniformDouble())
    }

    public func make(trial: Int, config: TrialConfig) throws -> any Trainable {
        SurrogateTrainable(trial: trial, curve: curve(for: config), secondsPerUnit: secondsPerUnit(trial: trial), failsAt: failurePoint(trial: trial))
    }
}

// MARK: Simulation

extension SurrogateTrainableFactory: SimulatableTrainableFactory {
    /// Exactly what ``SurrogateTrainable`` would report and how long it would sleep,
    /// without sleeping.
    public func simulate(_ job: Job) -> SimulatedJob {
        let from = job.resumeFrom ?? 0
        let perUnit = secondsPerUnit(trial: job.trial)
        if let failsAt = failurePoint(trial: job.trial), Swift.max(job.resource, from) >= failsAt {
            return SimulatedJob(outcome: .failed(SurrogateDiverged(trial: job.trial, resource: failsAt).description),
                                seconds: Swift.max(0, failsAt - from) * perUnit)
        }
        let metric = curve(for: job.config).metric(trial: job.trial, at: Swift.max(job.resource, from))
        let outcome: TrialResult.Outcome = metric.isFinite ? .metric(metric) : .failed("metric is \(metric)")
        return SimulatedJob(outcome: outcome, seconds: Swift.max(0, job.resource - from) * perUnit)
    }

    public var baseSecondsPerUnit: Double { secondsPerUnit }

    public func testMetric(trial: Int, config: TrialConfig, resource: Double) -> Double? {
        curve(for: config).metric(trial: trial, at: resource, noisy: false)
    }
}
