import Foundation

/// Asynchronous successive halving (Li et al. 2020, Algorithm 2).
///
/// When a worker is free: scan rungs from the top; at rung k the candidates are the
/// top floor(|rung k| / eta) results recorded there; the first not yet promoted
/// goes on to rung k+1, resuming from its rung-k checkpoint (pause and resume, never
/// stop). If no rung has a candidate, a new configuration starts at rung 0. There
/// is no barrier: a slow job delays only its own configuration.
public struct ASHAScheduler: TrialScheduler {
    public private(set) var bracket: BracketState
    public var budget: Budget
    var book: TrialBook

    /// `countsFailures`: whether failed results count in a rung's promotion quota.
    public init(space: SearchSpace, seed: UInt64, ladder: RungLadder, mode: MetricMode, budget: Budget, countsFailures: Bool = true) {
        self.bracket = BracketState(ladder: ladder, mode: mode, countsFailures: countsFailures)
        self.budget = budget
        self.book = TrialBook(space: space, seed: seed)
    }

    public var inFlight: [Job] { book.inFlight }
    public var brackets: [BracketState] { [bracket] }
    public var trialsStarted: Int { book.trialsStarted }

    public mutating func nextDecision(now: Double) -> SchedulerDecision {
        if budget.timeIsUp(now) { return book.running.isEmpty ? .finished : .wait }
        if let job = bracket.takeASHAPromotion(configs: book.configs, bracket: 0) {
            book.dispatch(job)
            return .run(job)
        }
        if budget.allowsNewTrial(started: book.trialsStarted) {
            let (id, config) = book.newTrial()
            let job = Job(trial: id, config: config, rung: 0, resource: bracket.ladder.resource(rung: 0))
            book.dispatch(job)
            return .run(job)
        }
        return book.running.isEmpty ? .finished : .wait
    }

    public mutating func record(_ result: TrialResult) throws {
        let job = try book.complete(result)
        bracket.add(RungRecord(trial: job.trial, metric: result.metric), rung: job.rung)
    }
}
