import Foundation

/// Asynchronous Hyperband: several ASHA brackets with early-stopping rates
/// s0, s0+1, ..., each running Algorithm 2 on its own rungs.
///
/// A free worker goes to the bracket with the fewest fully trained configurations
/// normalised by bracket depth. We read that as Hyperband's budget balance: a
/// bracket of depth d spends about d * R per configuration it trains to the top,
/// so the score is `depth * (jobs dispatched to the top rung)` and the lowest score
/// wins (ties to the more aggressive bracket). Counting dispatched rather than
/// finished top-rung jobs keeps several free workers from piling into the shallow
/// bracket while its first job runs. In the chosen bracket, ASHA promotes if it
/// can and otherwise starts a new configuration; once the trial budget is spent,
/// promotions are taken from any bracket in score order.
public struct AsyncHyperbandScheduler: TrialScheduler {
    public private(set) var brackets: [BracketState]
    public var budget: Budget
    var book: TrialBook
    /// Jobs dispatched to each bracket's top rung.
    private(set) var topRungStarts: [Int]

    /// `rates` are the brackets' early-stopping rates, most aggressive first.
    public init(space: SearchSpace, seed: UInt64, minResource: Double, maxResource: Double, eta: Int,
                rates: [Int], mode: MetricMode, budget: Budget) {
        self.brackets = rates.map {
            BracketState(ladder: RungLadder(minResource: minResource, maxResource: maxResource, eta: eta, earlyStoppingRate: $0), mode: mode)
        }
        self.topRungStarts = Array(repeating: 0, count: rates.count)
        self.budget = budget
        self.book = TrialBook(space: space, seed: seed)
    }

    public var inFlight: [Job] { book.inFlight }
    public var trialsStarted: Int { book.trialsStarted }

    /// Bracket indices, lowest score first.
    public var bracketOrder: [Int] {
        brackets.indices.sorted { a, b in
            let sa = brackets[a].rungs.count * topRungStarts[a], sb = brackets[b].rungs.count * topRungStarts[b]
            return sa != sb ? sa < sb : a < b
        }
    }

    public mutating func nextDecision(now: Double) -> SchedulerDecision {
        if budget.timeIsUp(now) { return book.running.isEmpty ? .finished : .wait }
        let order = bracketOrder
        let mayStart = budget.allowsNewTrial(started: book.trialsStarted)
        for b in (mayStart ? [order[0]] : order) {
            if let job = brackets[b].takeASHAPromotion(configs: book.configs, bracket: b) {
                return dispatch(job)
            }
        }
        if mayStart {
            let b = order[0]
            let (id, config) = book.newTrial()
            return dispatch(Job(trial: id, config: config, bracket: b, rung: 0, resource: brackets[b].ladder.resource(rung: 0)))
        }
        return book.running.isEmpty ? .finished : .wait
    }

    private mutating func dispatch(_ job: Job) -> SchedulerDecision {
        if job.rung == brackets[job.bracket].topRung { topRungStarts[job.bracket] += 1 }
        book.dispatch(job)
        return .run(job)
    }

    public mutating func record(_ result: TrialResult) throws {
        let job = try book.complete(result)
        brackets[job.bracket].add(RungRecord(trial: job.trial, metric: result.metric), rung: job.rung)
    }
}
