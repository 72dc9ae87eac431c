import Foundation

/// What must agree between a simulated and a real run of the same search: the
/// scheduler's decisions, in order, and the results (as a set, with their metrics).
///
/// Decisions are `start` events (a new trial, or a promotion) and `lost` events,
/// compared by kind, trial and rung. Times and worker numbers are left out: which
/// rank says "ready" first under mpirun is up to the operating system and changes
/// nothing the scheduler sees. The order of results is an input, not a decision:
/// two results arriving a millisecond apart in either order usually lead to the
/// same decisions, and when they do not, the first differing decision is explained
/// by the results each run had recorded when it was made.
public enum DecisionTrace {
    public struct Step: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case start, result, failed, lost }
        public var kind: Kind
        public var trial: Int
        public var rung: Int
        public var time: Double
        public var metric: Double?

        public var isDecision: Bool { kind == .start || kind == .lost }
        public var job: String { "t\(trial)r\(rung)" }

        /// Equal as decisions: same kind, trial and rung (times differ between runs).
        public func sameDecision(as other: Step) -> Bool {
            kind == other.kind && trial == other.trial && rung == other.rung
        }

        public var description: String { "\(kind.rawValue) \(job)" }
    }

    public static func steps(_ events: [JournalEvent]) -> [Step] {
        events.compactMap { e in
            switch e {
            case let .start(s): return Step(kind: .start, trial: s.job.trial, rung: s.job.rung, time: s.time, metric: nil)
            case let .result(f): return Step(kind: .result, trial: f.trial, rung: f.rung, time: f.time, metric: f.metric)
            case let .failed(f): return Step(kind: .failed, trial: f.trial, rung: f.rung, time: f.time, metric: nil)
            case let .lost(l): return Step(kind: .lost, trial: l.trial, rung: l.rung, time: l.time, metric: nil)
            case .run, .resume, .stop, .end: return nil
            }
        }
    }

    /// How two runs' traces compare.
    public struct Comparison: Sendable {
        public var simulated: [Step]
        public var real: [Step]
        /// Decisions that agree before the first difference.
        public var agreeingDecisions: Int
        public var simulatedDecisions: Int
        public var realDecisions: Int
        /// Jobs answered in one run and not the other, or with different metrics
        /// (must be none: the trainable is the same pure function in both runs).
        public var resultMismatches: [String]
        /// Results that arrived in a different order while every decision agreed.
        public var reorderedResults: Int
        /// The closest call of the simulation: the least time between a decision and
        /// a result that, arriving on the other side of it, would have changed what
        /// the scheduler knew (0 for ties). Real runs agree when their timing noise
        /// stays below it.
        public var closestCall: Double?

        public var matches: Bool {
            agreeingDecisions == simulatedDecisions && agreeingDecisions == realDecisions && resultMismatches.isEmpty
        }

        /// One paragraph: what agreed, or where and why the runs parted.
        public var explanation: String {
            if matches {
                var s = "the simulated and the real run made the same \(simulatedDecisions) decisions in the same order and got the same \(simulated.count - simulatedDecisions) results with identical metrics"
                if reorderedResults > 0 { s += " (\(reorderedResults) results arrived in another order without changing any decision)" }
                else { s += ", in the same order" }
                if let c = closestCall { s += String(format: "; closest call in the simulation: %.0f ms", c * 1000) }
                return s
            }
            if agreeingDecisions == simulatedDecisions && agreeingDecisions == realDecisions {
                return "the same decisions, but results differ: " + resultMismatches.prefix(5).joined(separator: "; ")
            }
            let sims = simulated.filter(\.isDecision), reals = real.filter(\.isDecision)
            let i = agreeingDecisions
            let a = i < sims.count ? sims[i] : nil, b = i < reals.count ? reals[i] : nil
            var s = "the runs make the same first \(i) decisions; decision \(i + 1) is \(a.map(\.description) ?? "none (the run ended)") in the simulation and \(b.map(\.description) ?? "none (the run ended)") in the real run"
            guard let a, let b else { return s }
            // What each run had recorded when it made that decision.
            func seen(_ trace: [Step], before decision: Int) -> [String: Step] {
                var count = 0
                var out: [String: Step] = [:]
                for st in trace {
                    if st.isDecision { if count == decision { break }; count += 1 }
                    else { out[st.job] = st }
                }
                return out
            }
            let sSeen = seen(simulated, before: i), rSeen = seen(real, before: i)
            let onlySim = sSeen.keys.filter { rSeen[$0] == nil }.sorted(), onlyReal = rSeen.keys.filter { sSeen[$0] == nil }.sorted()
            let simTime = { (job: String) in simulated.first { !$0.isDecision && $0.job == job }?.time }
            func describe(_ jobs: [String]) -> String {
                jobs.map { j in simTime(j).map { String(format: "%@ (simulated finish %.3f s)", j, $0) } ?? j }.joined(separator: ", ")
            }
            s += String(format: ". The simulation decided at %.3f s, the real run at %.3f s", a.time, b.time)
            if !onlySim.isEmpty { s += "; only the simulation had recorded " + describe(onlySim) }
            if !onlyReal.isEmpty { s += "; only the real run had recorded " + describe(onlyReal) }
            let involved = (onlySim + onlyReal).compactMap(simTime)
            if let lo = involved.min(), let hi = involved.max() {
                let gap = Swift.max(abs(hi - a.time), abs(lo - a.time))
                if gap < 5e-4 {
                    s += ". Those jobs finished at the same simulated instant as the decision: a tie, which the simulation breaks by dispatch order and the real ranks by timing noise (process start-up, message latency, polling, journal writes); give trials distinct durations (the surrogate's time_spread) to avoid ties"
                } else {
                    s += String(format: ". Those completions were within %.0f ms of the decision in the simulation, closer than the real farm's timing noise (process start-up, message latency, polling, journal writes), so they arrived on the other side of it", gap * 1000)
                }
            }
            return s
        }
    }

    public static func compare(simulated simEvents: [JournalEvent], real realEvents: [JournalEvent]) -> Comparison {
        let a = steps(simEvents), b = steps(realEvents)
        let da = a.filter(\.isDecision), db = b.filter(\.isDecision)
        var i = 0
        while i < da.count, i < db.count, da[i].sameDecision(as: db[i]) { i += 1 }

        let ra = a.filter { !$0.isDecision }, rb = b.filter { !$0.isDecision }
        var mismatches: [String] = []
        let byJobB = Dictionary(rb.map { ($0.job, $0) }, uniquingKeysWith: { x, _ in x })
        let byJobA = Dictionary(ra.map { ($0.job, $0) }, uniquingKeysWith: { x, _ in x })
        for x in ra {
            guard let y = byJobB[x.job] else { mismatches.append("\(x.job) answered only in the simulation"); continue }
            if x.kind != y.kind || x.metric != y.metric {
                mismatches.append("\(x.job): \(x.kind.rawValue) \(x.metric.map { "\($0)" } ?? "") in the simulation, \(y.kind.rawValue) \(y.metric.map { "\($0)" } ?? "") in the real run")
            }
        }
        for y in rb where byJobA[y.job] == nil { mismatches.append("\(y.job) answered only in the real run") }
        let reordered = zip(ra, rb).filter { $0.job != $1.job }.count
        return Comparison(simulated: a, real: b, agreeingDecisions: i, simulatedDecisions: da.count, realDecisions: db.count,
                          resultMismatches: mismatches, reorderedResults: reordered, closestCall: closestCall(a))
    }

    /// For each decision after the start: the time to the next result, and the time
    /// since the result before the one that triggered it (the trigger itself shares
    /// the decision's instant). The least of these over the run; `nil` when there is
    /// no such decision.
    public static func closestCall(_ trace: [Step]) -> Double? {
        var next = Array(repeating: Double.infinity, count: trace.count + 1)
        for i in stride(from: trace.count - 1, through: 0, by: -1) {
            next[i] = trace[i].isDecision ? next[i + 1] : trace[i].time
        }
        var last: Double?, beforeLast: Double?
        var closest = Double.infinity
        for (i, st) in trace.enumerated() {
            if !st.isDecision { beforeLast = last; last = st.time; continue }
            guard st.time > 0 else { continue }
            closest = Swift.min(closest, next[i + 1] - st.time)
            let before = last == st.time ? beforeLast : last
            if let before { closest = Swift.min(closest, st.time - before) }
        }
        return closest.isFinite ? closest : nil
    }
}
