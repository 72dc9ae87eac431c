import CohortFiles
import Foundation

/// The table printed at the end of a run: top trials per rung, the best
/// configuration, and how busy the workers were.
public enum Summary {
    public static func render(config: TuneConfig, coordinator: FarmCoordinator, best: BestTrial?, busy: [Int: Double],
                              end: JournalEvent.End, lost: Set<Int>, top: Int = 3) -> String {
        var out: [String] = []
        out.append("search \(config.name): \(config.scheduler.kind.rawValue), eta \(config.scheduler.eta), seed \(config.seed): "
                   + "\(end.trials) trials, \(end.results) results (\(end.failures) failed) in \(String(format: "%.1f", end.time)) s"
                   + (end.reason == "budget spent" ? "" : " (\(end.reason))"))
        let space = config.space
        for (b, bracket) in coordinator.scheduler.brackets.enumerated() {
            if coordinator.scheduler.brackets.count > 1 {
                out.append("bracket \(b) (early-stopping rate \(bracket.ladder.earlyStoppingRate))")
            }
            for k in bracket.rungs.indices.reversed() {
                let rung = bracket.rungs[k]
                let resource = config.scheduler.kind == .random ? config.scheduler.maxResource : bracket.ladder.resource(rung: k)
                let head = "  rung \(k) (resource \(JSONValue.number(resource))): \(rung.count) results"
                let best = rung.prefix(top).map { r in "t\(r.trial) " + (r.metric.map { ParameterValue.format($0) } ?? "failed") }
                out.append(best.isEmpty ? head : head + "; top: " + best.joined(separator: ", "))
            }
        }
        if let best {
            var line = "best: trial \(best.trial) at rung \(best.rung) (resource \(JSONValue.number(best.resource))): \(config.metric) \(ParameterValue.format(best.metric))"
            if let t = best.testMetric { line += ", test \(ParameterValue.format(t))" }
            out.append(line)
            out.append("  " + best.config.entries.filter { e in
                if case .constant = space[e.name]?.domain { return false } else { return true }
            }.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        } else {
            out.append("best: none (no trial finished successfully)")
        }
        if !busy.isEmpty {
            let ws = busy.keys.sorted()
            let mean = ws.map { busy[$0]! }.reduce(0, +) / Double(ws.count)
            out.append("workers busy: " + ws.map { "w\($0) \(Int((busy[$0]! * 100).rounded()))%" }.joined(separator: " ")
                       + "; mean \(Int((mean * 100).rounded()))%")
        }
        if !lost.isEmpty { out.append("lost workers: " + lost.sorted().map { "w\($0)" }.joined(separator: " ")) }
        return out.joined(separator: "\n")
    }
}

/// The one-line status rank 0 prints while a run goes: trials, rung occupancy, best
/// so far, and an estimate of the time left.
public struct ProgressLine: Sendable {
    public let config: TuneConfig

    public init(config: TuneConfig) { self.config = config }

    public func line(_ c: FarmCoordinator, now: Double) -> String {
        let rungs = c.scheduler.brackets.map { $0.rungs.map { String($0.count) }.joined(separator: "/") }.joined(separator: " ")
        var s = String(format: "[%7.1fs] ", now) + "trials \(c.scheduler.trialsStarted)"
        if let m = config.scheduler.budget.maxTrials { s += "/\(m)" }
        s += "  results \(c.results)  rungs \(rungs)  running \(c.running.count)"
        if let b = c.best { s += "  best \(ParameterValue.format(b.metric)) (t\(b.trial) @\(JSONValue.number(b.resource)))" }
        if let eta = eta(c, now: now) { s += "  eta " + Self.duration(eta) }
        return s
    }

    func eta(_ c: FarmCoordinator, now: Double) -> Double? {
        var estimates: [Double] = []
        if let limit = config.scheduler.budget.timeLimit { estimates.append(Swift.max(0, limit - now)) }
        if let m = config.scheduler.budget.maxTrials, c.scheduler.trialsStarted > 0, now > 0 {
            let fraction = Double(c.scheduler.trialsStarted) / Double(m)
            estimates.append(Swift.max(0, now / fraction - now))
        }
        return estimates.min()
    }

    static func duration(_ s: Double) -> String {
        guard let t = Checked.int(s.rounded()), t < 1 << 40 else { return "a very long time" }
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
