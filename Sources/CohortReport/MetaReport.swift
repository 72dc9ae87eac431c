import CohortFiles
import CohortMeta
import Foundation

/// The report of meta-learning runs (`cohort meta`): for one run directory, the mean
/// query accuracy of the meta-batches by meta-iteration and the meta-test table; for a
/// folder of runs (what scripts/bench/meta.sh writes), test accuracy against the
/// labelled-point budget per learner and selection, with 95% bands.
public struct MetaReport: ReportRenderer {
    public let kind = "meta"
    public let accepts = "a meta-learning run directory (events.jsonl of step events) or a folder of them"

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        if isRun(input) { return true }
        return !runs(in: input).isEmpty
    }

    private func isRun(_ input: ReportInput) -> Bool {
        guard input.has(input.run.configURL), let first = input.firstEvent else { return false }
        return first["event"]?.stringValue == "step" && first["query_accuracy"] != nil
    }

    /// Subdirectories holding a meta-learning summary.
    func runs(in input: ReportInput) -> [(name: String, summary: JSONValue)] {
        guard input.isDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: input.url.path) else { return [] }
        return names.sorted().compactMap { name in
            guard let s = try? RunFiles.document(input.file(name).appendingPathComponent("summary.json")),
                  s["learner"]?.stringValue != nil, s["results"]?.arrayValue != nil else { return nil }
            return (name, s)
        }
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        if isRun(input) {
            return runPage(name: input.url.lastPathComponent, events: try RunFiles.lines(input.run.journalURL),
                           summary: try RunFiles.document(input.file("summary.json")))
        }
        return budgetPage(name: input.url.lastPathComponent, runs: runs(in: input))
    }

    public func runPage(name: String, events: [JSONValue], summary: JSONValue?) -> HTMLPage {
        var page = HTMLPage(title: "Meta-learning run \(name)",
                            subtitle: [summary?["learner"]?.stringValue, summary?["budget"].map { "budget \($0.intValue.map(String.init) ?? "all")" },
                                       summary?["ranks"]?.intValue.map { "\($0) ranks" }, summary?["seed"]?.intValue.map { "seed \($0)" }]
                                .compactMap { $0 }.joined(separator: ", "),
                            kind: kind)
        var chart = Chart(title: "Meta-training query accuracy", xLabel: "meta-iteration", yLabel: "accuracy", cssClass: "meta-curve")
        let points = events.compactMap { e -> (x: Double, y: Double)? in
            guard e["event"]?.stringValue == "step", let s = e["step"]?.doubleValue, let a = e["query_accuracy"]?.doubleValue else { return nil }
            return (s, a)
        }
        chart.series.append(Series(points: points, color: Palette.color(0), strokeWidth: 2, cssClass: "meta-accuracy", title: "query accuracy"))
        page.figureRow([chart.svg()], caption: "Mean query accuracy of the meta-batches (before adaptation for Reptile) between journal lines.")
        if let results = summary?["results"]?.arrayValue {
            page.table(header: ["meta-test", "support", "accuracy", "95% +-", "episodes"], rows: results.map { r in
                [r["name"]?.stringValue ?? "-", r["selection"]?.stringValue ?? "-", r["accuracy"]?.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-",
                 r["interval"]?.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-", r["episodes"]?.intValue.map(String.init) ?? "-"]
            }, cssClass: "meta-results")
        } else {
            page.paragraph("No summary.json yet: the run is still going or was stopped (continue it with cohort meta --resume --out DIR).")
        }
        return page
    }

    /// Accuracy against budget: one line per learner and training selection for each
    /// meta-test (name and support choice); "all" labels is drawn at the right end.
    public func budgetPage(name: String, runs: [(name: String, summary: JSONValue)]) -> HTMLPage {
        var page = HTMLPage(title: "Meta-learning against the labelled-point budget", subtitle: "\(runs.count) runs in \(name)", kind: kind)
        let budgets = runs.compactMap { $0.summary["budget"]?.intValue }
        let allPosition = Double((budgets.max() ?? 1000) * 3)
        var tests: [String] = []
        for r in runs { for t in r.summary["results"]?.arrayValue ?? [] {
            let key = "\(t["name"]?.stringValue ?? "?"), \(t["selection"]?.stringValue ?? "?") support"
            if !tests.contains(key) { tests.append(key) }
        } }
        for test in tests {
            var chart = Chart(title: test, xLabel: "labelled points in meta-training (rightmost: all)", yLabel: "accuracy", cssClass: "meta-budget")
            chart.xKind = .log
            chart.width = 445
            chart.height = 280
            var groups: [String] = []
            for r in runs {
                let g = "\(r.summary["learner"]?.stringValue ?? "?")/\(r.summary["selection"]?.stringValue ?? "?")"
                if !groups.contains(g) { groups.append(g) }
            }
            for (i, group) in groups.enumerated() {
                var rows: [(x: Double, y: Double, h: Double)] = []
                for r in runs where "\(r.summary["learner"]?.stringValue ?? "?")/\(r.summary["selection"]?.stringValue ?? "?")" == group {
                    guard let t = r.summary["results"]?.arrayValue?.first(where: {
                        "\($0["name"]?.stringValue ?? "?"), \($0["selection"]?.stringValue ?? "?") support" == test
                    }), let a = t["accuracy"]?.doubleValue, let h = t["interval"]?.doubleValue else { continue }
                    rows.append((r.summary["budget"]?.intValue.map(Double.init) ?? allPosition, a, h))
                }
                rows.sort { $0.x < $1.x }
                guard !rows.isEmpty else { continue }
                let color = Palette.color(i)
                chart.series.append(Series(points: rows.map { ($0.x, $0.y) }, color: color, strokeWidth: 2, cssClass: "meta-mean", title: group))
                for sign in [-1.0, 1.0] {
                    chart.series.append(Series(points: rows.map { ($0.x, $0.y + sign * $0.h) }, color: color, dashed: true, cssClass: "meta-band",
                                               title: "\(group) 95% band"))
                }
                chart.legend.append(LegendEntry(group, color: color))
            }
            page.figureRow([chart.svg()], caption: "\(test): mean test accuracy (solid) and its 95% interval (dashed) per learner/training selection.")
        }
        page.table(header: ["run", "learner", "selection", "budget", "tasks", "meta-test", "support", "accuracy", "95% +-"], rows: runs.flatMap { r in
            (r.summary["results"]?.arrayValue ?? []).map { t in
                [r.name, r.summary["learner"]?.stringValue ?? "-", r.summary["selection"]?.stringValue ?? "-",
                 r.summary["budget"]?.intValue.map(String.init) ?? "all", r.summary["tasks"]?.intValue.map(String.init) ?? "-",
                 t["name"]?.stringValue ?? "-", t["selection"]?.stringValue ?? "-",
                 t["accuracy"]?.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-", t["interval"]?.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-"]
            }
        }, cssClass: "meta-table")
        return page
    }
}
