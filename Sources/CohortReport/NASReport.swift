import CohortFiles
import Foundation
import CohortTune

/// The report of a NAS run directory (`cohort nas search`): supernet training by
/// epoch, the architecture weights of every edge over the search (GAEA, DARTS), the
/// candidates' scores with the shared weights (and, for random search with weight
/// sharing, every sampled architecture's minibatch score), and what retraining from
/// scratch gave.
///
/// Read from the files `cohort nas search` writes: `supernet.jsonl` (one line per
/// epoch), `architecture-weights.jsonl` (`step`, `epoch`, `weights`: one row per edge,
/// one column per operation), `scores.jsonl`, `candidates.json`, `summary.json`
/// (with each retrained candidate's accuracies).
public struct NASReport: ReportRenderer {
    public let kind = "nas"
    public let accepts = "a NAS run directory (config.yaml and supernet.jsonl)"

    /// NAS-Bench-201's operations, in the column order of the weight rows.
    public static let operations = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    /// The cell's edges i -> j, in the row order of the weight rows.
    public static let edges = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        input.has("supernet.jsonl") && input.has("config.yaml")
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        let name = (try? ConfigDocument.parse(String(contentsOf: input.file("config.yaml"), encoding: .utf8)))?["name"]?.stringValue
        func lines(_ file: String) throws -> [JSONValue] { input.has(file) ? try RunFiles.lines(input.file(file)) : [] }
        return page(name: name ?? input.url.lastPathComponent,
                    epochs: try lines("supernet.jsonl"), weights: try lines("architecture-weights.jsonl"),
                    scores: try lines("scores.jsonl"), candidates: try RunFiles.document(input.file("candidates.json"))?.arrayValue ?? [],
                    summary: try RunFiles.document(input.file("summary.json")))
    }

    public func page(name: String, epochs: [JSONValue], weights: [JSONValue], scores: [JSONValue], candidates: [JSONValue],
                     summary: JSONValue?) -> HTMLPage {
        let strategy = summary?["strategy"]?.stringValue ?? (weights.isEmpty ? "rsws" : "gaea or darts")
        var page = HTMLPage(title: "NAS run \(name)",
                            subtitle: "\(strategy)" + (summary?["ranks"]?.intValue.map { ", \($0) ranks" } ?? "")
                                + (summary?["seed"]?.intValue.map { ", seed \($0)" } ?? ""),
                            kind: kind)
        var facts: [(String, String)] = [("strategy", strategy)]
        if let s = summary {
            if let p = s["supernet_parameters"]?.intValue, let steps = s["supernet_steps"]?.intValue, let sec = s["supernet_seconds"]?.number {
                facts.append(("supernet", "\(p) parameters, \(steps) steps in \(NumberFormat.fixed(sec, 1)) s"))
            }
            if let c = s["chosen"]?.stringValue { facts.append(("chosen", c)) }
            var acc: [String] = []
            if let v = s["chosen_validation_accuracy"]?.number { acc.append("validation \(NumberFormat.fixed(v, 4))") }
            if let t = s["chosen_test_accuracy"]?.number { acc.append("test \(NumberFormat.fixed(t, 4))") }
            if !acc.isEmpty { facts.append(("chosen, retrained", acc.joined(separator: ", "))) }
            if let m = s["search_cost_in_trainings"]?.number { facts.append(("search cost", "\(NumberFormat.fixed(m, 2)) x training one architecture")) }
            if let t = s["total_seconds"]?.number { facts.append(("duration", "\(NumberFormat.fixed(t, 1)) seconds")) }
        } else {
            facts.append(("summary", "no summary.json yet (interrupted or still running)"))
        }
        page.facts(facts)

        // MARK: Supernet
        page.heading("Supernet training")
        var loss = Chart(title: "Training loss", xLabel: "epoch", yLabel: "loss", cssClass: "supernet-loss")
        var accuracy = Chart(title: "Training accuracy", xLabel: "epoch", yLabel: "accuracy", cssClass: "supernet-accuracy")
        loss.width = 445; loss.height = 260; accuracy.width = 445; accuracy.height = 260
        let ep = epochs.compactMap { e -> (Double, Double, Double)? in
            guard let n = e["epoch"]?.number, let l = e["loss"]?.number, let a = e["accuracy"]?.number else { return nil }
            return (n, l, a)
        }
        loss.series = [Series(points: ep.map { (x: $0.0, y: $0.1) }, color: Palette.color(0), strokeWidth: 2, cssClass: "epoch-loss"),
                       Series(points: ep.map { (x: $0.0, y: $0.1) }, color: Palette.color(0), style: .dots(3), cssClass: "epoch-point")]
        accuracy.series = [Series(points: ep.map { (x: $0.0, y: $0.2) }, color: Palette.color(2), strokeWidth: 2, cssClass: "epoch-accuracy"),
                           Series(points: ep.map { (x: $0.0, y: $0.2) }, color: Palette.color(2), style: .dots(3), cssClass: "epoch-point")]
        page.figureRow([loss.svg(), accuracy.svg()], caption: "Per epoch, over the training batches of every rank.")

        // MARK: Architecture weights
        if !weights.isEmpty {
            page.heading("Architecture weights over the search")
            var charts: [String] = []
            for (k, edge) in Self.edges.enumerated() {
                var c = Chart(title: "Edge \(edge.0) -> \(edge.1)", xLabel: "step", yLabel: "weight", cssClass: "edge-weights")
                c.width = 445; c.height = 230; c.legendWidth = 112
                c.yDomain = (0, 1)
                for (j, op) in Self.operations.enumerated() {
                    let pts = weights.compactMap { w -> (x: Double, y: Double)? in
                        guard let step = w["step"]?.number, let rows = w["weights"]?.arrayValue, k < rows.count,
                              let row = rows[k].arrayValue, j < row.count, let v = row[j].number else { return nil }
                        return (step, v)
                    }
                    c.series.append(Series(points: pts, color: Palette.color(j), strokeWidth: 1.8, cssClass: "op-weight",
                                           title: op, data: [("data-edge", "\(edge.0)-\(edge.1)"), ("data-op", op)]))
                    c.legend.append(LegendEntry(op, color: Palette.color(j)))
                }
                c.includeZeroX = true
                charts.append(c.svg())
            }
            let last = weights.last?["derived"]?.stringValue
            page.figureRow(charts, caption: "Each edge's weight on each operation, as logged every few steps; the derived cell takes each edge's heaviest operation."
                           + (last.map { " Derived at the end: \($0)." } ?? ""))
        }

        // MARK: Candidates
        page.heading("Candidate scores")
        if !scores.isEmpty {
            // Every sampled architecture, ranked by its minibatch accuracy; rescored ones marked.
            let sampled = scores.compactMap { s -> (String, Double)? in
                guard let a = s["architecture"]?.stringValue, let m = s["minibatch_accuracy"]?.number else { return nil }
                return (a, m)
            }.sorted { $0.1 > $1.1 }
            var chart = Chart(title: "Sampled architectures with the shared weights", xLabel: "rank by minibatch accuracy", yLabel: "accuracy", cssClass: "candidate-scores")
            chart.series.append(Series(points: sampled.enumerated().map { (x: Double($0.offset + 1), y: $0.element.1) },
                                       color: Palette.rung(0, of: 2), style: .dots(2.5), cssClass: "sampled-score"))
            chart.legend.append(LegendEntry("minibatch accuracy", color: Palette.rung(0, of: 2)))
            let rank = Dictionary(sampled.enumerated().map { ($0.element.0, $0.offset + 1) }, uniquingKeysWith: { a, _ in a })
            let rescored = candidates.compactMap { c -> (x: Double, y: Double)? in
                guard let a = c["architecture"]?.stringValue, let r = rank[a], let v = c["validation_accuracy"]?.number else { return nil }
                return (Double(r), v)
            }
            chart.series.append(Series(points: rescored, color: Palette.color(4), style: .dots(4.5), cssClass: "rescored-score"))
            chart.legend.append(LegendEntry("validation accuracy", color: Palette.color(4)))
            chart.includeZeroX = true
            page.figure(chart.svg(), caption: "\(sampled.count) sampled architectures scored on a few validation minibatches with the supernet's weights (best first); the top ones re-scored on the whole validation split.")
        }
        let retrained = Dictionary((summary?["retrained"]?.arrayValue ?? []).compactMap { r -> (String, JSONValue)? in
            r["architecture"]?.stringValue.map { ($0, r) }
        }, uniquingKeysWith: { a, _ in a })
        func f(_ v: JSONValue?) -> String { v?.number.map { NumberFormat.fixed($0, 4) } ?? "-" }
        page.table(header: ["architecture", "minibatch accuracy", "validation accuracy (shared weights)", "retrained validation", "retrained test"],
                   rows: candidates.map { c in
                       let a = c["architecture"]?.stringValue ?? "?"
                       return [a, f(c["minibatch_accuracy"]), f(c["validation_accuracy"]), f(retrained[a]?["validation_accuracy"]), f(retrained[a]?["test_accuracy"])]
                   }, cssClass: "candidates")
        return page
    }
}
