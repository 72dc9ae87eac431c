import CohortFiles
import Foundation
import CohortTune
import CohortPipelines

/// The report of a tuning run directory (real or simulated): the best metric over
/// time, every trial's learning curve coloured by the rung it reached, a timeline of
/// every worker, and the rungs and top trials as tables.
public struct TuneReport: ReportRenderer {
    public let kind = "tune"
    public let accepts = "a tuning run directory (config.yaml and an events.jsonl opening with a run event naming a scheduler)"
    /// Above this many workers the timeline shows the first ones only (plus the
    /// number of busy workers over time for all of them).
    public var timelineRows = 64
    /// Above this many single-result trials, a deterministic sample is drawn.
    public var maxPoints = 4000

    public init() {}

    public func canRender(_ input: ReportInput) -> Bool {
        guard input.has(input.run.configURL), let first = input.firstEvent,
              case .run = (try? JournalEvent(json: first, space: SearchSpace([]))) else { return false }
        // The journal's configurations are read through the config's search space.
        let config = (try? String(contentsOf: input.run.configURL, encoding: .utf8)).flatMap { try? ConfigDocument.parse($0) }
        return config?["space"] != nil && config?["scheduler"] != nil
    }

    // MARK: Loading

    /// Everything the page is drawn from.
    public struct Run {
        public var config: TuneConfig
        public var events: [JournalEvent]
        public var simulated: Bool
        public var best: BestTrial.Record?
    }

    public static func load(_ input: ReportInput) throws -> Run {
        let run = RunDirectory(input.url)
        do {
            let text = try String(contentsOf: run.configURL, encoding: .utf8)
            let config = try TuneConfig.parse(text, source: run.configURL.lastPathComponent, catalog: try inertCatalog(for: text))
            let events = try JournalContents.read(url: run.journalURL, space: config.space).events
            let best = (try? Data(contentsOf: run.bestURL)).flatMap { try? JSONValue.parse(String(decoding: $0, as: UTF8.self)) }
                .map(BestTrial.Record.init(json:))
            return Run(config: config, events: events, simulated: input.has(run.simulationURL), best: best)
        } catch let e as ReportError {
            throw e
        } catch {
            throw ReportError("\(input.url.path): \(error)")
        }
    }

    /// A catalog that accepts the config's trainable without building it: a report
    /// reads journals and never trains (building an MLP would load its dataset).
    static func inertCatalog(for text: String) throws -> TrainableCatalog {
        var catalog = TrainableCatalog.standard
        if let type = try ConfigDocument.parse(text)["trainable"]?["type"]?.stringValue, catalog.builder(named: type) == nil {
            catalog.register(type) { section, _ in
                section.accept(section.members.map(\.key))
                return InertFactory()
            }
        }
        return catalog
    }

    struct InertFactory: TrainableFactory {
        func make(trial: Int, config: TrialConfig) throws -> any Trainable {
            throw ReportError("a report does not train")
        }
    }

    // MARK: Page

    public func render(_ input: ReportInput) throws -> HTMLPage {
        try page(for: Self.load(input))
    }

    public func page(for run: Run) -> HTMLPage {
        let config = run.config
        let events = run.events
        let spec = config.scheduler
        let unit = run.simulated ? "virtual seconds" : "seconds"
        let throughput = RunAnalysis.throughput(events)
        let spans = RunAnalysis.spans(events)
        let finishes: [JournalEvent.Finish] = events.compactMap {
            switch $0 { case let .result(f), let .failed(f): return f; default: return nil }
        }
        let levels = Array(Set(finishes.map(\.resource) + events.compactMap { if case let .start(s) = $0 { return s.job.resource } else { return nil } })).sorted()
        func level(_ r: Double) -> Int { levels.firstIndex(of: r) ?? 0 }
        func color(_ r: Double) -> String { Palette.rung(level(r), of: levels.count) }
        let end: JournalEvent.End? = events.reversed().lazy.compactMap { if case let .end(e) = $0 { return e } else { return nil } }.first
        let trials = Set(events.compactMap { if case let .start(s) = $0 { return s.job.trial } else { return nil } })
        let lost = events.filter { if case .lost = $0 { return true } else { return false } }.count

        var page = HTMLPage(title: "Tuning run \(config.name)",
                            subtitle: "\(spec.kind.rawValue), eta \(spec.eta), resources \(levels.map(NumberFormat.short).joined(separator: ", ")), seed \(config.seed), \(throughput.workers) workers"
                                + (run.simulated ? ", simulated cluster (times are virtual)" : ""),
                            kind: kind)

        // MARK: Facts
        var facts: [(String, String)] = [
            ("scheduler", "\(spec.kind.rawValue) (eta \(spec.eta), r \(NumberFormat.short(spec.minResource)), R \(NumberFormat.short(spec.maxResource)))"),
            ("trials", "\(trials.count)"),
            ("results", "\(throughput.results) (\(finishes.filter { $0.metric == nil }.count) failed\(lost > 0 ? ", \(lost) jobs lost" : ""))"),
            ("duration", "\(NumberFormat.fixed(throughput.duration, 2)) \(unit)" + (end.map { " (\($0.reason))" } ?? " (no end event: interrupted or still running)")),
            ("throughput", "\(NumberFormat.fixed(throughput.resultsPerSecond, 2)) results per \(run.simulated ? "virtual " : "")second"),
            ("workers busy", "\(NumberFormat.fixed(throughput.busyFraction * 100, 1))% on average"),
        ]
        if let b = run.best, let t = b.trial, let m = b.metric {
            var s = "trial \(t): \(config.metric) \(NumberFormat.short(m)) at resource \(b.resource.map { "\(JSONValue.number($0))" } ?? "?")"
            if let test = b.testMetric { s += ", test \(NumberFormat.short(test))" }
            facts.append(("best", s))
            if let cfg = b.config {
                facts.append(("best configuration", cfg.map { "\($0.key)=\(Self.value($0.value))" }.joined(separator: "  ")))
            }
        } else if let e = end, let t = e.bestTrial, let m = e.bestMetric {
            facts.append(("best", "trial \(t): \(config.metric) \(NumberFormat.short(m))"))
        }
        if let target = config.stopTarget {
            let t = RunAnalysis.timeToTarget(events, target: target.metric, mode: config.mode, resource: target.resource)
            facts.append(("target", "\(config.metric) \(NumberFormat.short(target.metric)) at resource \(NumberFormat.short(target.resource)): "
                          + (t.map { "reached at \(NumberFormat.fixed($0, 2)) \(unit)" } ?? "not reached")))
        }
        page.facts(facts)

        // MARK: Reuse of pipeline stages
        if let reuse = ReuseSummary(events) {
            page.heading("Reuse of pipeline stages")
            page.paragraph("Where each job found its stages' outputs: computed, in its worker's memory cache, or in the cache the workers share on disk. Saved: the compute seconds of the outputs found, less the time to fetch them. The classifiers trained for \(NumberFormat.fixed(reuse.classifierSeconds, 2)) seconds in all.")
            page.table(header: ReuseSummary.header, rows: reuse.rows, cssClass: "pipeline-reuse")
        }

        // MARK: Best metric over time
        page.heading("Best \(config.metric) over time")
        var progress = Chart(title: "Best \(config.metric) so far, per rung", xLabel: "time (\(unit))", yLabel: config.metric, cssClass: "best-over-time")
        let shown = Self.sample(finishes.filter { $0.metric != nil }, keepingAbove: levels.last ?? 0, limit: maxPoints)
        for r in levels {
            let pts = shown.filter { $0.resource == r }.map { (x: $0.time, y: $0.metric!) }
            if !pts.isEmpty { progress.series.append(Series(points: pts, color: color(r), style: .dots(2), opacity: 0.45, cssClass: "result-point")) }
        }
        for r in levels {
            var best: Double?
            var steps: [(x: Double, y: Double)] = []
            for f in finishes where f.resource == r {
                guard let m = f.metric else { continue }
                if best == nil || config.mode.isBetter(m, than: best!) { best = m; steps.append((f.time, m)) }
            }
            if !steps.isEmpty {
                progress.series.append(Series(points: steps, color: color(r), style: .step, strokeWidth: 2.2, cssClass: "best-step",
                                              title: "best at resource \(NumberFormat.short(r))", data: [("data-resource", NumberFormat.short(r))]))
                progress.legend.append(LegendEntry("resource \(NumberFormat.short(r))", color: color(r)))
            }
        }
        if let target = config.stopTarget, let last = finishes.last {
            progress.series.append(Series(points: [(0, target.metric), (last.time, target.metric)], color: "#333", dashed: true, strokeWidth: 1, cssClass: "target-line"))
            progress.legend.append(LegendEntry("target", color: "#333", dashed: true))
        }
        progress.includeZeroX = true
        page.figure(progress.svg(), caption: "Dots: every result, coloured by the resource it was trained to (the rung). Lines: the best result so far at each resource. "
                    + (shown.count < finishes.count ? "\(shown.count) of \(finishes.count) results are drawn (all at the top resource, a regular sample of the rest)." : ""))

        // MARK: Learning curves
        page.heading("Learning curves")
        var curves = Chart(title: "Every trial's \(config.metric) against resource", xLabel: "resource", yLabel: config.metric, cssClass: "learning-curves")
        curves.xKind = levels.count >= 2 && levels.first! > 0 && levels.last! / levels.first! >= 4 ? .log : .linear
        var byTrial: [Int: [(x: Double, y: Double)]] = [:]
        for f in finishes { if let m = f.metric { byTrial[f.trial, default: []].append((f.resource, m)) } }
        let ordered = byTrial.keys.sorted { a, b in
            let ra = byTrial[a]!.map(\.x).max()!, rb = byTrial[b]!.map(\.x).max()!
            return ra != rb ? ra < rb : a < b           // the furthest trials are drawn last, on top
        }
        // Every trial that reached the top rung is drawn; the others, rung by highest
        // rung, as a regular sample when there are more than `maxPoints` of them.
        let topLevel = levels.last ?? 0
        var drawnCurves = 0, sampledOut = 0
        var byReach: [Double: [Int]] = [:]
        for t in ordered { byReach[byTrial[t]!.map(\.x).max()!, default: []].append(t) }
        let below = ordered.filter { byTrial[$0]!.map(\.x).max()! < topLevel }.count
        let stride = Swift.max(1, Int((Double(below) / Double(maxPoints)).rounded(.up)))
        for r in levels {
            for (i, t) in (byReach[r] ?? []).enumerated() {
                if r < topLevel && i % stride != 0 { sampledOut += 1; continue }
                let pts = byTrial[t]!.sorted { $0.x < $1.x }
                curves.series.append(Series(points: pts, color: color(r), style: pts.count == 1 ? .dots(2) : .line,
                                            strokeWidth: 1.2, opacity: r == topLevel ? 0.95 : 0.55,
                                            cssClass: "trial-curve rung-\(level(r))", title: "trial \(t)", data: [("data-trial", String(t))]))
                drawnCurves += 1
            }
        }
        for (i, r) in levels.enumerated() {
            curves.legend.append(LegendEntry("reached rung \(i) (\(NumberFormat.short(r)))", color: color(r)))
        }
        page.figure(curves.svg(), caption: "One line per trial through its results at each rung, coloured by the highest rung it reached. "
                    + (sampledOut > 0 ? "\(drawnCurves) of \(ordered.count) trials drawn: all that reached the top rung and a regular sample of the rest (one in \(stride))." : ""))

        // MARK: Workers
        page.heading("Workers")
        let workers = Array(Set(spans.map(\.worker))).sorted()
        let busy = Dictionary(grouping: spans, by: \.worker).mapValues { $0.reduce(0) { $0 + ($1.end - $1.start) } }
        let drawn = Array(workers.prefix(timelineRows))
        var jobResource: [[Int]: Double] = [:]          // [trial, rung] -> resource
        for case let .start(st) in events { jobResource[[st.job.trial, st.job.rung]] = st.job.resource }
        var timeline = TimelineChart(title: "Jobs per worker (busy) and gaps (idle)", xLabel: "time (\(unit))",
                                     rows: drawn.map { w in
                                         TimelineChart.Row(label: "w\(w)", bars: spans.filter { $0.worker == w }.map { s in
                                             let color: String, cls: String
                                             switch s.ending {
                                             case .result:
                                                 let k = level(jobResource[[s.trial, s.rung]] ?? 0)
                                                 color = Palette.rung(k, of: levels.count); cls = "job rung-\(k)"
                                             case .failed: color = Palette.failed; cls = "job failed"
                                             case .lost: color = Palette.lost; cls = "job lost"
                                             }
                                             return TimelineChart.Bar(start: s.start, end: s.end, color: color, cssClass: cls,
                                                                      title: "trial \(s.trial) rung \(s.rung): \(NumberFormat.short(s.start))-\(NumberFormat.short(s.end)) (\(s.ending.rawValue))")
                                         }, note: throughput.duration > 0 ? "\(NumberFormat.fixed(100 * (busy[w] ?? 0) / throughput.duration, 0))% busy" : "")
                                     }, duration: throughput.duration)
        timeline.legend = levels.map { LegendEntry("resource \(NumberFormat.short($0))", color: color($0)) }
            + [LegendEntry("failed", color: Palette.failed), LegendEntry("lost", color: Palette.lost)]
        page.figure(timeline.svg(), caption: drawn.count < workers.count
                    ? "The first \(drawn.count) of \(workers.count) workers; the chart below counts busy workers over time for all of them."
                    : "Each bar is one job, coloured by its rung; grey gaps are time a worker was idle (waiting for work or for the run to end).")
        if drawn.count < workers.count || workers.count > 8 {
            // Busy workers at each moment, averaged over at most 600 slices of the run
            // (a 500-worker run has hundreds of thousands of changes).
            let slices = 600
            let width = Swift.max(throughput.duration, 1e-9) / Double(slices)
            let busyWorkers = RunAnalysis.busyWorkers(spans, duration: throughput.duration, slices: slices)
            let pts: [(x: Double, y: Double)] = busyWorkers.enumerated().map { (Double($0.offset) * width, $0.element) }
            var occupancy = Chart(title: "Busy workers over time", xLabel: "time (\(unit))", yLabel: "busy workers", cssClass: "busy-workers")
            occupancy.series = [Series(points: pts, color: Palette.color(0), style: .step, cssClass: "busy-line")]
            occupancy.includeZeroY = true
            occupancy.includeZeroX = true
            occupancy.yDomain = (0, Double(Swift.max(1, throughput.workers)) * 1.05)
            occupancy.height = 260
            page.figure(occupancy.svg(), caption: "How many of the \(throughput.workers) workers had a job at each moment.")
        }

        // MARK: Tables
        page.heading("Rungs")
        var rows: [[String]] = []
        for r in levels {
            let here = finishes.filter { $0.resource == r }
            let ok = here.compactMap { f in f.metric.map { (f.trial, $0) } }
            let best = ok.min { config.mode.isBetter($0.1, than: $1.1) }
            let promoted = Set(events.compactMap { e -> Int? in
                if case let .start(s) = e, s.job.resumeFrom == r { return s.job.trial }
                return nil
            })
            rows.append([NumberFormat.short(r), String(here.count), String(here.count - ok.count), String(promoted.count),
                         best.map { NumberFormat.short($0.1) } ?? "-", best.map { "t\($0.0)" } ?? "-"])
        }
        page.table(header: ["resource", "results", "failed", "promoted", "best \(config.metric)", "best trial"], rows: rows, cssClass: "rungs")

        page.heading("Top trials")
        struct Reached { var trial: Int; var resource: Double; var metric: Double }
        var reached: [Reached] = []
        for (t, pts) in byTrial {
            let last = pts.max { $0.x < $1.x }!
            reached.append(Reached(trial: t, resource: last.x, metric: last.y))
        }
        let mode = config.mode
        reached.sort { a, b in
            if a.resource != b.resource { return a.resource > b.resource }
            if a.metric != b.metric { return mode.isBetter(a.metric, than: b.metric) }
            return a.trial < b.trial
        }
        let top = reached.prefix(10)
        let configs = Dictionary(events.compactMap { e -> (Int, TrialConfig)? in
            if case let .start(s) = e { return (s.job.trial, s.job.config) } else { return nil }
        }, uniquingKeysWith: { a, _ in a })
        page.table(header: ["trial", "resource", config.metric, "configuration"], rows: top.map { t in
            [String(t.trial), NumberFormat.short(t.resource), NumberFormat.short(t.metric), configs[t.trial].map { "\($0)" } ?? ""]
        }, cssClass: "top-trials")
        return page
    }

    // MARK: Helpers

    static func value(_ v: JSONValue) -> String {
        if let d = v.doubleValue, v.intValue == nil { return NumberFormat.short(d) }
        return v.stringValue ?? v.description
    }

    /// Every result at the top resource and a regular sample of the others, at most
    /// `limit` in all (more when the top resource alone has more).
    static func sample(_ finishes: [JournalEvent.Finish], keepingAbove top: Double, limit: Int) -> [JournalEvent.Finish] {
        guard finishes.count > limit else { return finishes }
        let topOnes = finishes.filter { $0.resource >= top }
        let rest = finishes.filter { $0.resource < top }
        let room = Swift.max(1, limit - topOnes.count)
        let stride = Swift.max(1, Int((Double(rest.count) / Double(room)).rounded(.up)))
        return (topOnes + rest.enumerated().filter { $0.offset % stride == 0 }.map(\.element)).sorted { $0.time < $1.time }
    }
}
