import CohortFiles
import CohortXD
import Foundation

/// The report of an XD comparison (`cohort xd`): each model's training loss and test
/// metric by epoch, from the journal (so a run still going, or stopped, shows what it
/// has), and the final table from `summary.json` with wall times from `timing.json`.
public struct XDReport: ReportRenderer {
    public let kind = "xd"
    public let accepts = "an XD comparison run directory (config.yaml whose task is burgers or permuted_images, events.jsonl)"

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        guard input.has(input.run.configURL), let first = input.firstEvent else { return false }
        return first["event"]?.stringValue == "epoch" && first["model"] != nil && first["test"] != nil
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        let config = try? XDConfig.parse(String(contentsOf: input.run.configURL, encoding: .utf8))
        return page(name: config?.name ?? input.url.lastPathComponent, config: config, events: try RunFiles.lines(input.run.journalURL),
                    summary: try RunFiles.document(input.file("summary.json")), timing: try RunFiles.document(input.file("timing.json")))
    }

    public func page(name: String, config: XDConfig?, events: [JSONValue], summary: JSONValue?, timing: JSONValue?) -> HTMLPage {
        let metric = summary?["metric"]?.stringValue ?? config?.metric ?? "test metric"
        var page = HTMLPage(title: "XD comparison \(name)",
                            subtitle: [config.map { "\($0.task.rawValue), \($0.epochs) epochs" }, summary?["ranks"]?.intValue.map { "\($0) ranks" },
                                       summary?["seed"]?.intValue.map { "seed \($0)" }].compactMap { $0 }.joined(separator: ", "),
                            kind: kind)
        var models: [String] = []
        for e in events { if let m = e["model"]?.stringValue, !models.contains(m) { models.append(m) } }
        var loss = Chart(title: "Training loss", xLabel: "epoch", yLabel: metric == "accuracy" ? "cross-entropy" : "relative L2", cssClass: "xd-loss")
        var test = Chart(title: "Test \(metric)", xLabel: "epoch", yLabel: metric, cssClass: "xd-test")
        loss.width = 445; loss.height = 280; test.width = 445; test.height = 280
        if metric != "accuracy" { loss.yKind = .log; test.yKind = .log }
        for (i, model) in models.enumerated() {
            let mine = events.filter { $0["model"]?.stringValue == model }
            func points(_ key: String) -> [(x: Double, y: Double)] {
                mine.compactMap { e in
                    guard let epoch = e["epoch"]?.doubleValue, let v = e[key]?.doubleValue, v.isFinite, metric == "accuracy" || v > 0 else { return nil }
                    return (epoch, v)
                }
            }
            loss.series.append(Series(points: points("train_loss"), color: Palette.color(i), strokeWidth: 2, cssClass: "model-loss", title: model))
            test.series.append(Series(points: points("test"), color: Palette.color(i), strokeWidth: 2, cssClass: "model-test", title: model))
            loss.legend.append(LegendEntry(model, color: Palette.color(i)))
            test.legend.append(LegendEntry(model, color: Palette.color(i)))
        }
        page.figureRow([loss.svg(), test.svg()], caption: "Per epoch: the training loss over every rank's batches, and the test \(metric) after the epoch.")
        if let results = summary?["results"]?.objectMembers {
            let seconds = timing?["seconds_per_epoch"]
            let parameters = summary?["parameters"]
            page.table(header: ["model", "test \(metric)", "weights", "K, L, M", "s/epoch"], rows: results.map { model, value in
                [model, value.doubleValue.map { NumberFormat.fixed($0, 4) } ?? "-",
                 parameters?[model]?["weights"]?.intValue.map(String.init) ?? "-",
                 parameters?[model]?["architecture"]?.intValue.map(String.init) ?? "-",
                 seconds?[model]?.doubleValue.map { NumberFormat.fixed($0, 2) } ?? "-"]
            }, cssClass: "xd-results")
        } else {
            page.paragraph("No summary.json yet: the run is still going or was stopped (continue it with cohort xd --resume --out DIR).")
        }
        return page
    }
}
