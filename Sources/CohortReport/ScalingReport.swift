import Foundation
import CohortTune

/// The report of scaling experiments: a `scripts/scaling.sh` CSV, or a directory of
/// them (one per experiment): speedup against workers next to the ideal line, time
/// to target against workers (measured and, when present, simulated), and the table.
public struct ScalingReport: ReportRenderer {
    public let kind = "scaling"
    public let accepts = "a scaling CSV (columns workers, time_to_target_s, ...) or a directory of them"

    public init() {}

    static func isScalingCSV(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: (try? handle.read(upToCount: 4096)) ?? Data(), as: UTF8.self)
        let columns = (head.split(whereSeparator: \.isNewline).first ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return columns.contains("workers") && columns.contains("time_to_target_s")
    }

    public func canRender(_ input: ReportInput) -> Bool {
        if input.isDirectory && input.has(input.run.journalURL) { return false }
        return input.csvFiles.contains(where: Self.isScalingCSV)
    }

    /// The experiments found at `input`, one table per CSV file.
    public static func load(_ input: ReportInput) throws -> [(name: String, table: ScalingTable)] {
        try input.csvFiles.filter(isScalingCSV).map { url in
            let text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw ReportError("cannot read \(url.path): \(error.localizedDescription)") }
            do { return (url.deletingPathExtension().lastPathComponent, try ScalingTable.parse(csv: text, source: url.lastPathComponent)) }
            catch { throw ReportError("\(error)") }
        }
    }

    public func render(_ input: ReportInput) throws -> HTMLPage {
        page(for: try Self.load(input), source: input.url.lastPathComponent)
    }

    public func page(for experiments: [(name: String, table: ScalingTable)], source: String) -> HTMLPage {
        let rows = experiments.flatMap(\.table.rows)
        var names: [String] = []
        for r in rows where !names.contains(r.experiment) { names.append(r.experiment) }
        var page = HTMLPage(title: "Scaling: " + names.joined(separator: ", "),
                            subtitle: "\(source): time to the target metric as workers are added", kind: kind)
        let allWorkers = rows.map { Double($0.workers) }
        let minW = allWorkers.min() ?? 1, maxW = allWorkers.max() ?? 1

        var speedup = Chart(title: "Speedup against workers", xLabel: "workers", yLabel: "speedup (time with fewest workers / time)", cssClass: "speedup")
        speedup.series.append(Series(points: [(minW, 1), (maxW, maxW / minW)], color: "#555", dashed: true, strokeWidth: 1.5, cssClass: "ideal-line",
                                     title: "ideal (linear) speedup"))
        speedup.legend.append(LegendEntry("ideal", color: "#555", dashed: true))
        var times = Chart(title: "Time to target against workers", xLabel: "workers", yLabel: "time to target (s)", cssClass: "time-to-target")
        times.xKind = maxW / minW >= 8 ? .log : .linear
        speedup.legendWidth = 215
        times.legendWidth = 215
        times.yKind = .log
        for (i, name) in names.enumerated() {
            let mine = rows.filter { $0.experiment == name }.sorted { $0.workers < $1.workers }
            let color = Palette.color(i)
            let pts = mine.compactMap { r in r.speedup.map { (x: Double(r.workers), y: $0) } }
            speedup.series.append(Series(points: pts, color: color, style: .line, strokeWidth: 2.2, cssClass: "measured-line", data: [("data-experiment", name)]))
            speedup.series.append(Series(points: pts, color: color, style: .dots(4), cssClass: "measured-point", data: [("data-experiment", name)]))
            speedup.legend.append(LegendEntry("\(name) (measured)", color: color))
            let t = mine.compactMap { r in r.timeToTarget.map { (x: Double(r.workers), y: $0) } }
            times.series.append(Series(points: t, color: color, style: .line, strokeWidth: 2.2, cssClass: "measured-time", data: [("data-experiment", name)]))
            times.series.append(Series(points: t, color: color, style: .dots(4), cssClass: "measured-time-point"))
            times.legend.append(LegendEntry("\(name) (measured)", color: color))
            let sim = mine.compactMap { r in r.simulatedTimeToTarget.map { (x: Double(r.workers), y: $0) } }
            if sim.count >= 2, let base = mine.first?.simulatedTimeToTarget, base > 0 {
                let simSpeedup = sim.map { (x: $0.x, y: base / $0.y) }
                speedup.series.append(Series(points: simSpeedup, color: color, dashed: true, strokeWidth: 1.5, opacity: 0.8, cssClass: "simulated-line"))
                speedup.legend.append(LegendEntry("\(name) (simulated)", color: color, dashed: true))
                times.series.append(Series(points: sim, color: color, dashed: true, strokeWidth: 1.5, opacity: 0.8, cssClass: "simulated-time"))
                times.legend.append(LegendEntry("\(name) (simulated)", color: color, dashed: true))
            }
        }
        let workerCounts = Array(Set(allWorkers)).sorted()
        speedup.xDomain = (0, maxW * 1.05)
        speedup.xTicks = workerCounts
        times.xTicks = workerCounts
        speedup.yDomain = (0, Swift.max(maxW / minW, rows.compactMap(\.speedup).max() ?? 1) * 1.05)
        page.figure(speedup.svg(), caption: "Speedup in time to the target relative to the fewest workers; the dashed grey line is perfect linear scaling.")
        page.figure(times.svg(), caption: "Time until the target was reached (log-log): for a search, a fully trained result at the target metric; for training, the target accuracy. Dashed: the simulated cluster's prediction for the same search.")

        page.heading("Measurements")
        func f(_ x: Double?, _ d: Int) -> String { x.map { NumberFormat.fixed($0, d) } ?? "-" }
        page.table(header: ["experiment", "workers", "time to target (s)", "results/s", "busy", "speedup", "efficiency", "simulated (s)"],
                   rows: rows.map { r in
                       [r.experiment, String(r.workers), f(r.timeToTarget, 2), f(r.resultsPerSecond, 1), r.busyFraction.map { NumberFormat.fixed($0 * 100, 0) + "%" } ?? "-",
                        f(r.speedup, 2), f(r.efficiency, 2), f(r.simulatedTimeToTarget, 2)]
                   }, cssClass: "scaling-table")
        return page
    }
}
