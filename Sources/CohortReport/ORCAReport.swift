import CohortFiles
import CohortORCA
import Foundation

/// The report of an ORCA comparison (`cohort orca`): the alignment distance (MMD² of the
/// embedded inputs to the body's text features) over stage 1 and the task metric over
/// stage 2, for each variant, from the journal (so a run still going, or stopped, shows
/// what it has), and the final table from `summary.json` with wall times from
/// `timing.json`.
public struct ORCAReport: ReportRenderer {
    public let kind = "orca"
    public let accepts = "an ORCA comparison run directory (config.yaml with alignment:, events.jsonl)"

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        guard input.has(input.run.configURL), let first = input.firstEvent else { return false }
        return first["event"]?.stringValue == "distance" && first["variant"] != nil
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        let config = try? ORCAConfig.parse(String(contentsOf: input.run.configURL, encoding: .utf8))
        return page(name: config?.name ?? input.url.lastPathComponent, config: config, events: try RunFiles.lines(input.run.journalURL),
                    summary: try RunFiles.document(input.file("summary.json")), timing: try RunFiles.document(input.file("timing.json")))
    }

    public func page(name: String, config: ORCAConfig?, events: [JSONValue], summary: JSONValue?, timing: JSONValue?) -> HTMLPage {
        let metric = summary?["metric"]?.stringValue ?? config?.metric ?? "test metric"
        var page = HTMLPage(title: "ORCA comparison \(name)",
                            subtitle: [summary?["task"]?.stringValue ?? config?.task.rawValue,
                                       config.map { "\($0.alignmentEpochs) alignment + \($0.epochs) training epochs, \($0.bodyLayers) body layers" },
                                       summary?["ranks"]?.intValue.map { "\($0) ranks" }, summary?["seed"]?.intValue.map { "seed \($0)" }]
                                .compactMap { $0 }.joined(separator: ", "),
                            kind: kind)
        var variants: [String] = []
        for e in events { if let v = e["variant"]?.stringValue, !variants.contains(v) { variants.append(v) } }
        var distance = Chart(title: "Stage 1: MMD² to the text features", xLabel: "alignment epoch", yLabel: "MMD²", cssClass: "orca-align")
        var test = Chart(title: "Stage 2: test \(metric)", xLabel: "epoch", yLabel: metric, cssClass: "orca-test")
        distance.width = 445; distance.height = 280; test.width = 445; test.height = 280
        if metric != "accuracy" { test.yKind = .log }
        for (i, variant) in variants.enumerated() {
            let mine = events.filter { $0["variant"]?.stringValue == variant }
            let start = mine.first { $0["event"]?.stringValue == "distance" }?["mmd"]?.doubleValue
            let aligned = mine.filter { $0["event"]?.stringValue == "align" }.compactMap { e -> (x: Double, y: Double)? in
                guard let x = e["epoch"]?.doubleValue, let y = e["distance"]?.doubleValue, y.isFinite else { return nil }
                return (x, y)
            }
            distance.series.append(Series(points: (start.map { [(x: 0.0, y: $0)] } ?? []) + aligned, color: Palette.color(i), strokeWidth: 2,
                                          cssClass: "variant-align", title: variant))
            let trained = mine.filter { $0["event"]?.stringValue == "epoch" }.compactMap { e -> (x: Double, y: Double)? in
                guard let x = e["epoch"]?.doubleValue, let y = e["test"]?.doubleValue, y.isFinite, metric == "accuracy" || y > 0 else { return nil }
                return (x, y)
            }
            test.series.append(Series(points: trained, color: Palette.color(i), strokeWidth: 2, cssClass: "variant-test", title: variant))
            distance.legend.append(LegendEntry(variant, color: Palette.color(i)))
            test.legend.append(LegendEntry(variant, color: Palette.color(i)))
        }
        page.figureRow([distance.svg(), test.svg()],
                       caption: "Left: the MMD² between the embedded training inputs and the text features, before training (epoch 0) and after each alignment epoch (only orca aligns). Right: the test \(metric) after each fine-tuning epoch.")
        if let results = summary?["results"]?.objectMembers {
            let alignment = summary?["alignment"], seconds = timing?["seconds"]
            page.table(header: ["variant", "test \(metric)", "MMD² before", "MMD² after stage 1", "align s", "train s"], rows: results.map { variant, value in
                [variant, value.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-",
                 alignment?[variant]?["initial_mmd"]?.doubleValue.map { NumberFormat.fixed($0, 5) } ?? "-",
                 alignment?[variant]?["final_mmd"]?.doubleValue.map { NumberFormat.fixed($0, 5) } ?? "-",
                 seconds?[variant]?["align"]?.doubleValue.map { NumberFormat.fixed($0, 1) } ?? "-",
                 seconds?[variant]?["train"]?.doubleValue.map { NumberFormat.fixed($0, 1) } ?? "-"]
            }, cssClass: "orca-results")
        } else {
            page.paragraph("No summary.json yet: the run is still going or was stopped (continue it with cohort orca --resume --out DIR).")
        }
        return page
    }
}
