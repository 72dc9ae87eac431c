import Foundation

/// Synchronous successive halving and Hyperband.
///
/// A bracket with early-stopping rate s starts n configurations at rung 0
/// (resource r * eta^s); when every job of rung k has reported, the best
/// floor(n_k / eta) go on to rung k+1, resuming from their checkpoints. That rung
/// barrier is what ASHA removes. Hyperband runs brackets s = s0 ... smax with
/// n = ceil(B / d * eta^(d-1)) configurations for a bracket of depth d among B
/// brackets, so each spends about the same budget; plain SHA runs one bracket with
/// n = eta^(d-1).
///
/// Parallelism: when no open bracket has a job ready (every one waits at a
/// barrier), the next bracket of the plan opens, so free workers are not left
/// idle; pending promotions of older brackets always go first. With no budget the
/// plan runs once; with `maxTrials` and/or `timeLimit` it repeats until spent (the
/// last bracket is cut to the trials that remain).
public struct SuccessiveHalvingScheduler: TrialScheduler {
    /// The sequence of brackets one pass of the plan opens.
    public struct PlannedBracket: Equatable, Sendable {
        public var earlyStoppingRate: Int
        public var size: Int
    }

    /// Where one open bracket stands.
    struct Progress: Equatable, Sendable {
        var size: Int
        var startedAtRungZero = 0
        /// Jobs dispatched to each rung.
        var dispatched: [Int]
        /// Promotions decided at the last barrier and not yet handed out.
        var pending: [Job] = []
        /// The highest rung whose barrier has been passed (promotions decided), -1 if none.
        var barrierPassed = -1
    }

    public let plan: [PlannedBracket]
    public var budget: Budget
    public let minResource: Double, maxResource: Double, eta: Int
    public private(set) var brackets: [BracketState] = []
    var progress: [Progress] = []
    var book: TrialBook
    let mode: MetricMode

    public init(space: SearchSpace, seed: UInt64, minResource: Double, maxResource: Double, eta: Int,
                plan: [PlannedBracket], mode: MetricMode, budget: Budget) {
        self.plan = plan
        self.minResource = minResource
        self.maxResource = maxResource
        self.eta = eta
        self.mode = mode
        self.budget = budget
        self.book = TrialBook(space: space, seed: seed)
    }

    /// One SHA bracket with rate `s` and n = eta^(rungs-1), so one configuration reaches the top.
    public static func shaPlan(minResource: Double, maxResource: Double, eta: Int, earlyStoppingRate s: Int) -> [PlannedBracket] {
        let depth = RungLadder(minResource: minResource, maxResource: maxResource, eta: eta, earlyStoppingRate: s).rungCount
        return [PlannedBracket(earlyStoppingRate: s, size: power(eta, depth - 1))]
    }

    /// Hyperband's brackets s = s0 ... smax, most aggressive first.
    public static func hyperbandPlan(minResource: Double, maxResource: Double, eta: Int, minimumRate s0: Int) -> [PlannedBracket] {
        let smax = RungLadder.maxRate(minResource: minResource, maxResource: maxResource, eta: eta)
        let count = smax - s0 + 1
        return (s0...smax).map { s in
            let depth = smax - s + 1
            // ceil(count * eta^(depth-1) / depth) in integers: in floating point, 11/9 * 3^8
            // rounds above 8019 and the ceiling gives 8020.
            let n = (count * power(eta, depth - 1) + depth - 1) / depth
            return PlannedBracket(earlyStoppingRate: s, size: n)
        }
    }

    static func power(_ b: Int, _ e: Int) -> Int { e <= 0 ? 1 : (1...e).reduce(1) { n, _ in n * b } }

    public var inFlight: [Job] { book.inFlight }
    public var trialsStarted: Int { book.trialsStarted }

    /// Configurations rung k of a bracket of size n receives: floor(n / eta^k).
    func rungQuota(size: Int, rung k: Int) -> Int { size / Self.power(eta, k) }

    // MARK: Decisions

    public mutating func nextDecision(now: Double) -> SchedulerDecision {
        nextDecision(now: now, preferring: { _ in 0 })
    }

    public mutating func nextDecision(now: Double, preferring preference: (Job) -> Int) -> SchedulerDecision {
        if budget.timeIsUp(now) { return book.running.isEmpty ? .finished : .wait }
        // 1. Promotions that a passed barrier made ready, oldest bracket first; within
        // a bracket, the one preferred (best ranked first among equals).
        for b in progress.indices where !progress[b].pending.isEmpty {
            let chosen = progress[b].pending.firstIndexOfHighest(preference) ?? 0
            return dispatch(progress[b].pending.remove(at: chosen))
        }
        // 2. New configurations for open brackets whose rung 0 is not full.
        for b in progress.indices where progress[b].startedAtRungZero < progress[b].size {
            guard budget.allowsNewTrial(started: book.trialsStarted) else { break }
            return startNew(in: b, preference: preference)
        }
        // 3. Every open bracket waits: open the next one of the plan.
        if mayOpenBracket, !plan.isEmpty {
            let planned = plan[brackets.count % plan.count]
            var size = planned.size
            if let maxTrials = budget.maxTrials { size = Swift.min(size, maxTrials - book.trialsStarted) }
            let ladder = RungLadder(minResource: minResource, maxResource: maxResource, eta: eta, earlyStoppingRate: planned.earlyStoppingRate)
            brackets.append(BracketState(ladder: ladder, mode: mode))
            progress.append(Progress(size: size, dispatched: Array(repeating: 0, count: ladder.rungCount)))
            return startNew(in: brackets.count - 1, preference: preference)
        }
        return book.running.isEmpty ? .finished : .wait
    }

    private var mayOpenBracket: Bool {
        if budget.isUnbounded { return brackets.count < plan.count }
        return budget.allowsNewTrial(started: book.trialsStarted)
    }

    /// How many of a bracket's next rung-0 configurations a preference chooses among.
    public static let preferenceWindow = 16

    /// Rung 0 of a bracket takes its configurations in any order (its barrier waits
    /// for all), so a preference picks among the next few not yet started.
    private mutating func startNew(in b: Int, preference: (Job) -> Int) -> SchedulerDecision {
        let resource = brackets[b].ladder.resource(rung: 0)
        let window = Swift.min(Self.preferenceWindow, progress[b].size - progress[b].startedAtRungZero)
        let (id, config) = book.newTrial(window: window) { preference(Job(trial: $0, config: $1, bracket: b, rung: 0, resource: resource)) }
        progress[b].startedAtRungZero += 1
        return dispatch(Job(trial: id, config: config, bracket: b, rung: 0, resource: resource))
    }

    private mutating func dispatch(_ job: Job) -> SchedulerDecision {
        progress[job.bracket].dispatched[job.rung] += 1
        book.dispatch(job)
        return .run(job)
    }

    // MARK: Results and barriers

    public mutating func record(_ result: TrialResult) throws {
        let job = try book.complete(result)
        let b = job.bracket
        brackets[b].add(RungRecord(trial: job.trial, metric: result.metric), rung: job.rung)
        passBarrierIfComplete(bracket: b, rung: job.rung)
    }

    /// When rung k has every result it will get, decide rung k+1's configurations.
    private mutating func passBarrierIfComplete(bracket b: Int, rung k: Int) {
        let p = progress[b]
        let rungFull = k == 0 ? p.startedAtRungZero == p.size : (p.barrierPassed >= k - 1 && p.pending.isEmpty)
        guard rungFull, brackets[b].rungs[k].count == p.dispatched[k], k == p.barrierPassed + 1,
              k < brackets[b].topRung else { return }
        progress[b].barrierPassed = k
        let quota = rungQuota(size: p.size, rung: k + 1)
        let chosen = brackets[b].rungs[k].prefix(quota).filter { $0.metric != nil }
        for r in chosen {
            brackets[b].markPromoted(trial: r.trial, rung: k)
            progress[b].pending.append(Job(trial: r.trial, config: book.configs[r.trial], bracket: b, rung: k + 1,
                                           resource: brackets[b].ladder.resource(rung: k + 1),
                                           resumeFrom: brackets[b].ladder.resource(rung: k)))
        }
        // A rung that receives nothing is trivially complete: nothing more to pass.
    }
}
