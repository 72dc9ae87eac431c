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
/// id, so every decision is deterministic. Keeping rungs sorted on insertion makes
/// "the top floor(n/eta)" a prefix, which keeps the coordinator fast with
/// thousands of trials.
public struct BracketState: Equatable, Sendable {
    public var ladder: RungLadder
    public var mode: MetricMode
    public var rungs: [[RungRecord]]

    public init(ladder: RungLadder, mode: MetricMode) {
        self.ladder = ladder
        self.mode = mode
        self.rungs = Array(repeating: [], count: ladder.rungCount)
    }

    public var topRung: Int { rungs.count - 1 }

    /// True when `a` ranks ahead of `b` in a rung.
    public func ranksAhead(_ a: RungRecord, of b: RungRecord) -> Bool {
        switch (a.metric, b.metric) {
        case let (x?, y?):
            if x != y { return mode.isBetter(x, than: y) }
            return a.trial < b.trial
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.trial < b.trial
        }
    }

    /// Adds a result to rung `k`, keeping the rung sorted.
    public mutating func add(_ record: RungRecord, rung k: Int) {
        var lo = 0, hi = rungs[k].count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranksAhead(rungs[k][mid], of: record) { lo = mid + 1 } else { hi = mid }
        }
        rungs[k].insert(record, at: lo)
    }

    /// The number of results rung `k` may promote now: floor(|rung k| / eta).
    public func promotionQuota(rung k: Int) -> Int { rungs[k].count / ladder.eta }

    /// ASHA's candidate at rung `k` (Algorithm 2): the best-ranked trial among the top
    /// floor(|rung k| / eta) that has not been promoted. Failed trials are never
    /// promoted (there is no checkpoint to resume). The top rung promotes nothing.
    public func ashaCandidate(rung k: Int) -> RungRecord? {
        guard k < topRung else { return nil }
        let quota = promotionQuota(rung: k)
        var i = 0
        while i < quota {
            let r = rungs[k][i]
            if !r.promoted && r.metric != nil { return r }
            i += 1
        }
        return nil
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
        if let i = rungs[k].firstIndex(where: { $0.trial == trial }) { rungs[k][i].promoted = true }
    }

    public func record(trial: Int, rung k: Int) -> RungRecord? {
        rungs[k].first { $0.trial == trial }
    }

    /// The best successful result in the bracket at the highest rung that has one.
    public var leader: (record: RungRecord, rung: Int)? {
        for k in stride(from: topRung, through: 0, by: -1) {
            if let r = rungs[k].first, r.metric != nil { return (r, k) }
        }
        return nil
    }
}
