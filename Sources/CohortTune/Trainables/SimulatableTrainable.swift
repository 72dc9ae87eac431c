import Foundation

/// What a job would produce on a real worker, and how long it would take there,
/// known without running it.
public struct SimulatedJob: Equatable, Sendable {
    public var outcome: TrialResult.Outcome
    /// Seconds of training on an unloaded worker, before any straggler slow-down.
    public var seconds: Double

    public init(outcome: TrialResult.Outcome, seconds: Double) {
        self.outcome = outcome
        self.seconds = seconds
    }
}

/// A trainable factory with a cost model: a simulated cluster asks it for each
/// job's outcome and duration instead of training. The answers must be what a real
/// worker would report for the same job, so a simulated run makes the decisions a
/// real one would.
public protocol SimulatableTrainableFactory: TrainableFactory {
    /// The outcome and the unloaded duration of `job`.
    func simulate(_ job: Job) -> SimulatedJob

    /// Seconds per resource unit of a typical trial: time(R) = R * this.
    var baseSecondsPerUnit: Double { get }

    /// The held-out metric of `trial` trained to `resource`, for `best.json`.
    func testMetric(trial: Int, config: TrialConfig, resource: Double) -> Double?
}
