import Foundation

/// A hyperparameter search policy as a pure state machine.
///
/// No I/O and no clock of its own: the caller passes the time (seconds since the run
/// began) so that the same code is driven by real workers, by a journal replay and
/// by a simulated clock. A `.wait` answer never changes state, so asking again is
/// always safe. The sequence of decisions is a pure function of the sequence of
/// calls, which is what makes a journal replayable.
public protocol TrialScheduler: Sendable {
    /// What a free worker should do at time `now`. A `.run` answer marks the job in flight.
    mutating func nextDecision(now: Double) -> SchedulerDecision

    /// The same decision, except that when several jobs are equally ready (promotions
    /// decided at one barrier, the next configurations of a synchronous bracket's
    /// rung 0), the one `preference` scores highest goes first (ties: the usual order).
    /// Schedulers without such a choice (the asynchronous ones) ignore `preference`.
    mutating func nextDecision(now: Double, preferring preference: (Job) -> Int) -> SchedulerDecision

    /// Records the result of a job in flight.
    mutating func record(_ result: TrialResult) throws

    /// Jobs handed out and not yet recorded.
    var inFlight: [Job] { get }

    /// Every bracket's rungs as they stand (for summaries, progress and tests).
    var brackets: [BracketState] { get }

    /// The number of trials (configurations) started so far.
    var trialsStarted: Int { get }
}

extension TrialScheduler {
    public mutating func nextDecision(now: Double, preferring preference: (Job) -> Int) -> SchedulerDecision {
        nextDecision(now: now)
    }

    /// The decision `nextDecision` would make, without keeping its effects.
    public func nextDecisionPeek(now: Double) -> SchedulerDecision {
        var copy = self
        return copy.nextDecision(now: now)
    }
}
