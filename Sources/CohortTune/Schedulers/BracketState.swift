import Foundation

/// One recorded result in a rung.
public struct RungRecord: Equatable, Sendable {
    public var trial: Int
    /// `nil` when the job failed: it ranks below every metric.
    public var metric: Double?
    /// Set once the trial has been sent on to the next rung.
    public var promoted: Bool

    public init(trial: Int, metric: Double?, promoted: Bool = false) {
        self.trial = trial
        self.metric = metric
        self.promoted = promoted
    }
}

/// The rungs of one bracket: every recorded result, each rung kept best-first.
///
/// Order within a rung: better metric first; failures last; ties by smaller trial
/// id, so every decision is deterministic. Besides the ranked results, each rung
/// keeps its successful, not yet promoted trials in the same order: ASHA's
/// candidate is the first of those, and it is promotable exactly when its rank
/// among all results is within the top floor(n/eta). Both lookups are binary
/// searches, which keeps the coordinator fast with a hundred thousand trials.
public struct BracketState: Equatable, Sendable {
    public var ladder: RungLadder
    public var mode: MetricMode
    public private(set) var rungs: [RungResults]
    /// Per rung: successful results not yet promoted, best first.
    private var open: [RungResults]
    /// Per rung: each trial's record.
    private var byTrial: [[Int: RungRecord]]
    /// Whether failed results count in a rung's promotion quota (see ``promotionQuota(rung:)``).
    public var countsFailures: Bool
    /// Per rung: failed results recorded.
    private var failures: [Int]

    public init(ladder: RungLadder, mode: MetricMode, countsFailures: Bool = true) {
        self.ladder = ladder
        self.mode = mode
        self.countsFailures = countsFailures
        self.rungs = Array(repeating: RungResults(mode: mode), count: ladder.rungCount)
        self.open = rungs
        self.byTrial = Array(repeating: [:], count: ladder.rungCount)
        self.failures = Array(repeating: 0, count: ladder.rungCount)
    }

    public var topRung: Int { rungs.count - 1 }

    /// True when `a` ranks ahead of `b` in a rung.
    public func ranksAhead(_ a: RungRecord, of b: RungRecord) -> Bool {
        RungResults(mode: mode).ranksAhead(a, of: b)
    }

    /// Adds a result to rung `k`, keeping the rung sorted.
    public mutating func add(_ record: RungRecord, rung k: Int) {
        rungs[k].insert(record)
        byTrial[k][record.trial] = record
        if record.metric == nil { failures[k] += 1 }
        if record.metric != nil && !record.promoted { open[k].insert(record) }
    }

    /// The number of results rung `k` may promote now: floor(n / eta), where n counts
    /// every result, or only the successful ones when failures are left out (as the
    /// ASHA author's code does: there a failed trial never enters a rung, so a failure
    /// does not let a weaker success through).
    public func promotionQuota(rung k: Int) -> Int {
        (countsFailures ? rungs[k].count : rungs[k].count - failures[k]) / ladder.eta
    }

    /// ASHA's candidate at rung `k` (Algorithm 2): the best-ranked trial among the top
    /// floor(|rung k| / eta) that has not been promoted. Failed trials are never
    /// promoted (there is no checkpoint to resume). The top rung promotes nothing.
    public func ashaCandidate(rung k: Int) -> RungRecord? {
        guard k < topRung, let best = open[k].first else { return nil }
        return rungs[k].rank(of: best) < promotionQuota(rung: k) ? best : nil
    }

    /// Scans rungs from the top down and returns the first promotable trial with the
    /// rung it would leave.
    public func ashaPromotion() -> (record: RungRecord, from: Int)? {
        guard topRung >= 1 else { return nil }
        for k in stride(from: topRung - 1, through: 0, by: -1) {
            if let r = ashaCandidate(rung: k) { return (r, k) }
        }
        return nil
    }

    public mutating func markPromoted(trial: Int, rung k: Int) {
        guard var r = byTrial[k][trial], !r.promoted else { return }
        rungs[k].setPromoted(at: rungs[k].rank(of: r))
        if r.metric != nil { open[k].remove(at: open[k].rank(of: r)) }
        r.promoted = true
        byTrial[k][trial] = r
    }

    public func record(trial: Int, rung k: Int) -> RungRecord? { byTrial[k][trial] }

    /// The best successful result in the bracket at the highest rung that has one.
    public var leader: (record: RungRecord, rung: Int)? {
        for k in stride(from: topRung, through: 0, by: -1) {
            if let r = rungs[k].first, r.metric != nil { return (r, k) }
        }
        return nil
    }
}
