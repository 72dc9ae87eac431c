import Foundation

/// Whether a smaller or a larger metric is better.
public enum MetricMode: String, Sendable, CaseIterable {
    case min, max

    /// True when `a` is strictly better than `b`.
    public func isBetter(_ a: Double, than b: Double) -> Bool { self == .min ? a < b : a > b }

    /// The worst possible value, which failed trials are given.
    public var worst: Double { self == .min ? .infinity : -.infinity }
}

/// One unit of work: train trial `trial` up to `resource`, continuing from its
/// checkpoint at `resumeFrom` when it was paused at a lower rung.
public struct Job: Equatable, Sendable {
    public var trial: Int
    public var config: TrialConfig
    /// Which bracket of a multi-bracket scheduler (0 otherwise).
    public var bracket: Int
    /// The rung within the bracket; rung 0 is where new trials start.
    public var rung: Int
    /// Train until this much resource (epochs, iterations, ...) in total.
    public var resource: Double
    /// The resource level of the checkpoint to resume from; `nil` trains from scratch.
    public var resumeFrom: Double?

    public init(trial: Int, config: TrialConfig, bracket: Int = 0, rung: Int, resource: Double, resumeFrom: Double? = nil) {
        self.trial = trial
        self.config = config
        self.bracket = bracket
        self.rung = rung
        self.resource = resource
        self.resumeFrom = resumeFrom
    }

    /// True for jobs that continue a paused trial rather than start a new one.
    public var isPromotion: Bool { resumeFrom != nil }
}

/// What came back from a job.
public struct TrialResult: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case metric(Double)
        case failed(String)
    }
    public var trial: Int
    public var rung: Int
    public var outcome: Outcome

    public init(trial: Int, rung: Int, outcome: Outcome) {
        self.trial = trial
        self.rung = rung
        // A metric that is not a number is a failure, whatever the trainable said.
        if case let .metric(m) = outcome, !m.isFinite {
            self.outcome = .failed("metric is \(m)")
        } else {
            self.outcome = outcome
        }
    }

    public static func metric(trial: Int, rung: Int, _ m: Double) -> TrialResult {
        TrialResult(trial: trial, rung: rung, outcome: .metric(m))
    }
    public static func failed(trial: Int, rung: Int, _ reason: String) -> TrialResult {
        TrialResult(trial: trial, rung: rung, outcome: .failed(reason))
    }

    /// The metric, or `nil` for a failure.
    public var metric: Double? {
        if case let .metric(m) = outcome { return m }
        return nil
    }
}

/// A scheduler's answer to "what should a free worker do?".
public enum SchedulerDecision: Equatable, Sendable {
    /// Run this job.
    case run(Job)
    /// Nothing to start now, but jobs in flight may make work (a promotion, a rung
    /// barrier lifting); ask again after the next result.
    case wait
    /// The search is over: the budget is spent and nothing is in flight.
    case finished
}

/// Errors a scheduler raises when it is told something impossible.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    case unknownJob(trial: Int, rung: Int)

    public var description: String {
        switch self {
        case let .unknownJob(t, r): return "no job of trial \(t) at rung \(r) is in flight"
        }
    }
}
