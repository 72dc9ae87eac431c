import Foundation

/// The text `cohort nas search` prints at the end: the supernet's throughput and
/// digests, the best candidates, the retrained ones, the choice and the search cost.
enum NASSummary {
    static func render(_ o: NASSearchRun.Outcome, config: NASConfig, top: Int = 5) -> String {
        let s = o.supernet
        var out: [String] = []
        out.append(String(format: "supernet: %d steps in %.1f s (%.2f steps/s) on %d rank(s), %d parameters; replicas identical at all %d checks",
                          s.steps, s.seconds, s.stepsPerSecond, s.ranks, s.parameterCount, s.replicaChecks))
        out.append("supernet digest \(s.digest)")
        if let d = s.architectureDigest, let weights = s.architectureWeights {
            out.append("architecture weights digest \(d)")
            let header = "  edge  " + CellOperation.allCases.map { $0.name.padding(toLength: 13, withPad: " ", startingAt: 0) }.joined()
            out.append(header)
            for (e, row) in weights.enumerated() {
                let (i, j) = CellArchitecture.edges[e]
                out.append("  \(i)->\(j)  " + row.map { String(format: "%-13.4f", $0) }.joined())
            }
        }
        out.append(String(format: "candidates (shared weights, %.1f s of scoring):", o.scoringSeconds))
        for c in o.candidates.prefix(top) {
            var line = String(format: "  %.4f  %@", c.validationAccuracy, c.architecture.nasBench201String)
            if let m = c.minibatchAccuracy { line += String(format: "  (minibatches %.4f, round %d)", m, c.round) }
            out.append(line)
        }
        if let retrained = o.retrained {
            out.append(String(format: "retrained from scratch (%d epochs, %.1f s):", config.retrain.epochs, o.retrainSeconds ?? 0))
            for r in retrained {
                if let v = r.validationAccuracy, let t = r.testAccuracy {
                    out.append(String(format: "  validation %.4f  test %.4f  %.1f s  %@", v, t, r.trainSeconds ?? 0, r.architecture.nasBench201String))
                } else {
                    out.append("  failed (\(r.failure ?? "?"))  \(r.architecture)")
                }
            }
        }
        var chosen = "chosen: \(o.chosen)"
        if let t = o.chosenTestAccuracy { chosen += String(format: "  test accuracy %.4f", t) }
        out.append(chosen)
        if let cost = NASSearchRun.searchCost(o) {
            out.append(String(format: "search cost: %.1f rank-seconds = %.2f x training one architecture (%.1f s)",
                              cost.searchRankSeconds, cost.multiple, cost.oneArchitecture))
        }
        out.append("run directory: \(o.runDirectory.path)")
        return out.joined(separator: "\n")
    }
}
