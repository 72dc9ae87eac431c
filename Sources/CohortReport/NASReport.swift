import CohortFiles
import CohortNAS
import Foundation
import CohortTune

/// The report of a NAS run directory (`cohort nas search`): supernet training by
/// epoch, the architecture weights of every edge over the search (GAEA, DARTS), the
/// candidates' scores with the shared weights (and, for random search with weight
/// sharing, every sampled architecture's minibatch score), and what retraining from
/// scratch gave.
///
/// Read from the files `cohort nas search` writes, through their own records
/// (``NASRunFiles``).
public struct NASReport: ReportRenderer {
    public let kind = "nas"
    public let accepts = "a NAS run directory (config.yaml and supernet.jsonl)"

    /// NAS-Bench-201's operations, in the column order of the weight rows.
    static var operations: [String] { CellOperation.allCases.map(\.name) }
    /// The cell's edges i -> j, in the row order of the weight rows.
    static var edges: [(from: Int, to: Int)] { CellArchitecture.edges }

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        input.has(NASRunFiles.supernetLog) && input.has(input.run.configURL)
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        let config = try? NASConfig.parse(String(contentsOf: input.run.configURL, encoding: .utf8))
        func lines(_ file: String) throws -> [JSONValue] { input.has(file) ? try RunFiles.lines(input.file(file)) : [] }
        return page(name: config?.name ?? input.url.lastPathComponent,
                    epochs: try lines(NASRunFiles.supernetLog), weights: try lines(NASRunFiles.architectureWeightsLog),
                    scores: try lines(NASRunFiles.scores),
                    candidates: try RunFiles.document(input.file(NASRunFiles.candidates))?.arrayValue ?? [],
                    summary: try RunFiles.document(input.file(NASRunFiles.summary)))
    }

    public func page(name: String, epochs: [JSONValue], weights: [JSONValue], scores: [JSONValue], candidates: [JSONValue],
                     summary summaryJSON: JSONValue?) -> HTMLPage {
        let summary = summaryJSON.map(NASRunFiles.Summary.init(json:))
        let strategy = summary?.strategy ?? (weights.isEmpty ? "rsws" : "gaea or darts")
        var page = HTMLPage(title: "NAS run \(name)",
                            subtitle: "\(strategy)" + (summary?.ranks.map { ", \($0) ranks" } ?? "")
                                + (summary?.seed.map { ", seed \($0)" } ?? ""),
                            kind: kind)
        var facts: [(String, String)] = [("strategy", strategy)]
        if let s = summary {
            if let p = s.supernetParameters, let steps = s.supernetSteps, let sec = s.supernetSeconds {
                facts.append(("supernet", "\(p) parameters, \(steps) steps in \(NumberFormat.fixed(sec, 1)) s"))
            }
            if let c = s.chosen { facts.append(("chosen", c)) }
            var acc: [String] = []
            if let v = s.chosenValidationAccuracy { acc.append("validation \(NumberFormat.fixed(v, 4))") }
            if let t = s.chosenTestAccuracy { acc.append("test \(NumberFormat.fixed(t, 4))") }
            if !acc.isEmpty { facts.append(("chosen, retrained", acc.joined(separator: ", "))) }
            if let m = s.searchCostInTrainings { facts.append(("search cost", "\(NumberFormat.fixed(m, 2)) x training one architecture")) }
            if let t = s.totalSeconds { facts.append(("duration", "\(NumberFormat.fixed(t, 1)) seconds")) }
        } else {
            facts.append(("summary", "no \(NASRunFiles.summary) yet (interrupted or still running)"))
        }
        page.facts(facts)

        // MARK: Supernet
        page.heading("Supernet training")
        var loss = Chart(title: "Training loss", xLabel: "epoch", yLabel: "loss", cssClass: "supernet-loss")
        var accuracy = Chart(title: "Training accuracy", xLabel: "epoch", yLabel: "accuracy", cssClass: "supernet-accuracy")
        loss.width = 445; loss.height = 260; accuracy.width = 445; accuracy.height = 260
        let ep = epochs.map(NASRunFiles.EpochLine.init(json:)).compactMap { e -> (Double, Double, Double)? in
            guard let n = e.epoch, let l = e.loss, let a = e.accuracy else { return nil }
            return (n, l, a)
        }
        loss.series = [Series(points: ep.map { (x: $0.0, y: $0.1) }, color: Palette.color(0), strokeWidth: 2, cssClass: "epoch-loss"),
                       Series(points: ep.map { (x: $0.0, y: $0.1) }, color: Palette.color(0), style: .dots(3), cssClass: "epoch-point")]
        accuracy.series = [Series(points: ep.map { (x: $0.0, y: $0.2) }, color: Palette.color(2), strokeWidth: 2, cssClass: "epoch-accuracy"),
                           Series(points: ep.map { (x: $0.0, y: $0.2) }, color: Palette.color(2), style: .dots(3), cssClass: "epoch-point")]
        page.figureRow([loss.svg(), accuracy.svg()], caption: "Per epoch, over the training batches of every rank.")

        // MARK: Architecture weights
        let weightLines = weights.map(NASRunFiles.WeightsLine.init(json:))
        if !weightLines.isEmpty {
            page.heading("Architecture weights over the search")
            var charts: [String] = []
            for (k, edge) in Self.edges.enumerated() {
                var c = Chart(title: "Edge \(edge.from) -> \(edge.to)", xLabel: "step", yLabel: "weight", cssClass: "edge-weights")
                c.width = 445; c.height = 230; c.legendWidth = 112
                c.yDomain = (0, 1)
                for (j, op) in Self.operations.enumerated() {
                    let pts = weightLines.compactMap { w -> (x: Double, y: Double)? in
                        guard let step = w.step, k < w.weights.count, j < w.weights[k].count, w.weights[k][j].isFinite else { return nil }
                        return (step, w.weights[k][j])
                    }
                    c.series.append(Series(points: pts, color: Palette.color(j), strokeWidth: 1.8, cssClass: "op-weight",
                                           title: op, data: [("data-edge", "\(edge.from)-\(edge.to)"), ("data-op", op)]))
                    c.legend.append(LegendEntry(op, color: Palette.color(j)))
                }
                c.includeZeroX = true
                charts.append(c.svg())
            }
            let last = weightLines.last?.derived
            page.figureRow(charts, caption: "Each edge's weight on each operation, as logged every few steps; the derived cell takes each edge's heaviest operation."
                           + (last.map { " Derived at the end: \($0)." } ?? ""))
        }

        // MARK: Candidates
        page.heading("Candidate scores")
        if !scores.isEmpty {
            // Every sampled architecture, ranked by its minibatch accuracy; rescored ones marked.
            let sampled = scores.map(NASRunFiles.Score.init(json:)).compactMap { s -> (String, Double)? in
                guard let a = s.architecture, let m = s.minibatchAccuracy else { return nil }
                return (a, m)
            }.sorted { $0.1 > $1.1 }
            var chart = Chart(title: "Sampled architectures with the shared weights", xLabel: "rank by minibatch accuracy", yLabel: "accuracy", cssClass: "candidate-scores")
            chart.series.append(Series(points: sampled.enumerated().map { (x: Double($0.offset + 1), y: $0.element.1) },
                                       color: Palette.rung(0, of: 2), style: .dots(2.5), cssClass: "sampled-score"))
            chart.legend.append(LegendEntry("minibatch accuracy", color: Palette.rung(0, of: 2)))
            let rank = Dictionary(sampled.enumerated().map { ($0.element.0, $0.offset + 1) }, uniquingKeysWith: { a, _ in a })
            let rescored = candidates.map(NASRunFiles.Score.init(json:)).compactMap { c -> (x: Double, y: Double)? in
                guard let a = c.architecture, let r = rank[a], let v = c.validationAccuracy else { return nil }
                return (Double(r), v)
            }
            chart.series.append(Series(points: rescored, color: Palette.color(4), style: .dots(4.5), cssClass: "rescored-score"))
            chart.legend.append(LegendEntry("validation accuracy", color: Palette.color(4)))
            chart.includeZeroX = true
            page.figure(chart.svg(), caption: "\(sampled.count) sampled architectures scored on a few validation minibatches with the supernet's weights (best first); the top ones re-scored on the whole validation split.")
        }
        let retrained = Dictionary((summary?.retrained ?? []).compactMap { r in r.architecture.map { ($0, r) } },
                                   uniquingKeysWith: { a, _ in a })
        func f(_ v: Double?) -> String { v.map { NumberFormat.fixed($0, 4) } ?? "-" }
        page.table(header: ["architecture", "minibatch accuracy", "validation accuracy (shared weights)", "retrained validation", "retrained test"],
                   rows: candidates.map(NASRunFiles.Score.init(json:)).map { c in
                       let a = c.architecture ?? "?"
                       return [a, f(c.minibatchAccuracy), f(c.validationAccuracy), f(retrained[a]?.validationAccuracy), f(retrained[a]?.testAccuracy)]
                   }, cssClass: "candidates")
        return page
    }
}
