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
///
/// ``BracketScore/floored`` is the score of the author's MPI code instead:
/// floor(top-rung jobs * depth / deepest depth). Without the floor it orders brackets
/// exactly as the product does (it only divides by a constant); the floor makes ties
/// of brackets whose scores differ by less than one, and ties go to the more
/// aggressive bracket, so that bracket gets somewhat more of the work.
public struct AsyncHyperbandScheduler: TrialScheduler {
    /// How a bracket is scored when a free worker picks one (lowest first).
    public enum BracketScore: String, Sendable, CaseIterable {
        /// depth * top-rung jobs.
        case product
        /// floor(top-rung jobs * depth / deepest depth), as the author's code.
        case floored
    }

    public let bracketScore: BracketScore
    public private(set) var brackets: [BracketState]
    public var budget: Budget
    var book: TrialBook
    /// Jobs dispatched to each bracket's top rung.
    private(set) var topRungStarts: [Int]

    /// `rates` are the brackets' early-stopping rates, most aggressive first.
    public init(space: SearchSpace, seed: UInt64, minResource: Double, maxResource: Double, eta: Int,
                rates: [Int], mode: MetricMode, budget: Budget, countsFailures: Bool = true, bracketScore: BracketScore = .product) {
        self.brackets = rates.map {
            BracketState(ladder: RungLadder(minResource: minResource, maxResource: maxResource, eta: eta, earlyStoppingRate: $0),
                         mode: mode, countsFailures: countsFailures)
        }
        self.bracketScore = bracketScore
        self.topRungStarts = Array(repeating: 0, count: rates.count)
        self.budget = budget
        self.book = TrialBook(space: space, seed: seed)
    }

    public var inFlight: [Job] { book.inFlight }
    public var trialsStarted: Int { book.trialsStarted }

    /// Bracket `b`'s score; the lowest gets the next new configuration.
    public func score(bracket b: Int) -> Int {
        let product = brackets[b].rungs.count * topRungStarts[b]
        switch bracketScore {
        case .product: return product
        case .floored: return product / Swift.max(1, brackets.map(\.rungs.count).max() ?? 1)
        }
    }

    /// Bracket indices, lowest score first (ties to the more aggressive bracket).
    public var bracketOrder: [Int] {
        brackets.indices.sorted { a, b in
            let sa = score(bracket: a), sb = score(bracket: b)
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
