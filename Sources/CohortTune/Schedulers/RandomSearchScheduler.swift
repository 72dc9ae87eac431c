import Foundation

/// Random search: every configuration trains straight to the maximum resource R.
/// With `grid` parameters in the space, trial ids walk the grid (grid search).
public struct RandomSearchScheduler: TrialScheduler {
    public private(set) var bracket: BracketState
    public var budget: Budget
    var book: TrialBook

    public init(space: SearchSpace, seed: UInt64, maxResource: Double, mode: MetricMode, budget: Budget) {
        self.bracket = BracketState(ladder: RungLadder(minResource: maxResource, maxResource: maxResource, eta: 2), mode: mode)
        self.budget = budget
        self.book = TrialBook(space: space, seed: seed)
    }

    public var inFlight: [Job] { book.inFlight }
    public var brackets: [BracketState] { [bracket] }
    public var trialsStarted: Int { book.trialsStarted }

    public mutating func nextDecision(now: Double) -> SchedulerDecision {
        if !budget.timeIsUp(now) && budget.allowsNewTrial(started: book.trialsStarted) {
            let (id, config) = book.newTrial()
            let job = Job(trial: id, config: config, rung: 0, resource: bracket.ladder.maxResource)
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
