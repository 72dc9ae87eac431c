import CohortFiles
import XCTest
import CohortTune
@testable import CohortReport

/// `cohort report`: the structure of the HTML (SVG elements present, the right
/// numbers), never its pixels.
final class ReportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A simulated ASHA run with failures, drops and a target; returns its directory and journal.
    func simulatedRun(workers: Int = 3, name: String = "run", trainableExtra: String = ", failure_rate: 0.2") throws -> (URL, [JournalEvent]) {
        let config = dir.appendingPathComponent("\(name).yaml")
        try """
        name: \(name)
        seed: 2
        metric: loss
        mode: min
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 30, target: 0.5}
        farm: {job_timeout: 20}
        trainable: {type: surrogate, seconds_per_unit: 0.5\(trainableExtra)}
        space:
          learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0}
          act: {type: choice, values: ["<relu>", tanh]}
        """.write(to: config, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent(name)
        _ = try TuneRunner.simulate(TuneOptions(configPath: config.path, out: out.path),
                                    SimulationOptions(workers: workers, dropProbability: 0.1))
        let parsed = try TuneConfig.load(contentsOf: out.appendingPathComponent("config.yaml"))
        return (out, try JournalContents.read(url: out.appendingPathComponent("events.jsonl"), space: parsed.space).events)
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    // MARK: Tuning runs

    func testATuningReportDrawsEveryTrialJobAndRung() throws {
        let (run, events) = try simulatedRun()
        let (kind, html) = try ReportRegistry.standard.render(path: run.path)
        XCTAssertEqual(kind, "tune")
        XCTAssertTrue(html.contains("<body data-kind=\"tune\">"))

        // Three figures: best over time, learning curves, worker timeline (3 workers: no occupancy chart).
        XCTAssertEqual(count("<svg ", in: html), 3)
        for cls in ["chart best-over-time", "chart learning-curves", "chart timeline"] { XCTAssertTrue(html.contains("class=\"\(cls)\""), cls) }

        // One curve (or dot) per trial with a successful result.
        var ok = Set<Int>(), failed = 0, lost = 0, results = 0
        for e in events {
            switch e {
            case let .result(f): ok.insert(f.trial); results += 1
            case .failed: failed += 1
            case .lost: lost += 1
            default: break
            }
        }
        XCTAssertGreaterThan(failed, 0)
        XCTAssertGreaterThan(lost, 0)
        XCTAssertEqual(count("class=\"trial-curve", in: html), ok.count)
        // One bar per job: results, failures and losses.
        XCTAssertEqual(count("class=\"job ", in: html), results + failed + lost)
        XCTAssertEqual(count("class=\"job failed\"", in: html), failed)
        XCTAssertEqual(count("class=\"job lost\"", in: html), lost)
        XCTAssertEqual(count("class=\"row-label\"", in: html), 3)
        // A running-best staircase per resource that has results, and the target line.
        let levels = Set(events.compactMap { e -> Double? in if case let .result(f) = e { return f.resource } else { return nil } })
        XCTAssertEqual(count("class=\"best-step\"", in: html), levels.count)
        XCTAssertTrue(html.contains("class=\"target-line\""))

        // The rung table's counts are the journal's.
        let atOne = events.filter { if case let .result(f) = $0 { return f.resource == 1 } else { return false } }.count
        let failedAtOne = events.filter { if case let .failed(f) = $0 { return f.resource == 1 } else { return false } }.count
        XCTAssertTrue(html.contains("<tr><td class=\"num\">1</td><td class=\"num\">\(atOne + failedAtOne)</td><td class=\"num\">\(failedAtOne)</td>"), "rung table")
        // Facts: trials, simulated time, the best trial from best.json.
        let trials = Set(events.compactMap { e -> Int? in if case let .start(st) = e { return st.job.trial } else { return nil } })
        XCTAssertTrue(html.contains("<dt>trials</dt><dd>\(trials.count)</dd>"))
        XCTAssertTrue(html.contains("virtual seconds"))
        let best = try JSONValue.parse(String(contentsOf: run.appendingPathComponent("best.json"), encoding: .utf8))
        XCTAssertTrue(html.contains("<dd>trial \(best["trial"]!.intValue!): loss "), "best fact")

        // Self-contained: no scripts, nothing fetched; text is escaped.
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        XCTAssertFalse(html.contains("<relu>"))
        XCTAssertTrue(html.contains("&lt;relu&gt;"))
    }

    func testLargeRunsAreSampledAndSaySo() throws {
        let (run, _) = try simulatedRun(workers: 5, name: "wide", trainableExtra: "")
        var renderer = TuneReport()
        renderer.timelineRows = 2
        renderer.maxPoints = 5
        let html = try renderer.render(ReportInput(path: run.path)).html
        XCTAssertTrue(html.contains("The first 2 of 5 workers"))
        XCTAssertEqual(count("class=\"row-label\"", in: html), 2)
        XCTAssertTrue(html.contains("class=\"chart busy-workers\""), "all workers' occupancy when the timeline is cut")
        XCTAssertTrue(html.contains("trials drawn: all that reached the top rung and a regular sample of the rest"))
        XCTAssertTrue(html.contains("results are drawn (all at the top resource"))
    }

    func testARunOfATrainableThisBuildDoesNotKnowStillRenders() throws {
        let (run, _) = try simulatedRun(name: "other")
        let configURL = run.appendingPathComponent("config.yaml")
        let text = try String(contentsOf: configURL, encoding: .utf8)
            .replacingOccurrences(of: "type: surrogate, seconds_per_unit: 0.5, failure_rate: 0.2", with: "type: lab-private-trainable, dataset: fashion-mnist")
        try text.write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TuneConfig.load(contentsOf: configURL), "the standard catalog has no lab-private-trainable")
        let (kind, html) = try ReportRegistry.standard.render(path: run.path)
        XCTAssertEqual(kind, "tune")
        XCTAssertTrue(html.contains("class=\"chart learning-curves\""))
    }

    func testARealRunSaysSecondsAndDrawsItsWorkers() throws {
        let config = dir.appendingPathComponent("real.yaml")
        try """
        name: real
        seed: 1
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 12}
        trainable: {type: surrogate, checkpoints: false}
        space: {learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("real")
        _ = try TuneRunner.run(TuneOptions(configPath: config.path, out: out.path, workers: 2, progress: false, syncJournal: false))
        let html = try ReportRegistry.standard.render(path: out.path).html
        XCTAssertFalse(html.contains("virtual"))
        XCTAssertTrue(html.contains("time (seconds)"))
        XCTAssertEqual(count("class=\"row-label\"", in: html), 2)
        XCTAssertTrue(html.contains("<dt>trials</dt><dd>12</dd>"))
    }

    // MARK: Scaling tables

    let csv = """
        experiment,workers,time_to_target_s,results_per_s,busy_fraction,speedup,efficiency,simulated_time_to_target_s
        asha,1,63.660,3.60,0.991,1.000,1.000,60.800
        asha,2,32.146,7.40,0.992,1.980,0.990,30.900
        asha,4,17.301,14.32,0.957,3.680,0.920,16.700
        asha,8,9.780,28.04,0.886,6.509,0.814,9.400
        asha,16,5.705,53.28,0.797,11.158,0.697,5.700

        """

    func testAScalingReportDrawsSpeedupAgainstTheIdealLine() throws {
        let file = dir.appendingPathComponent("asha.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        let (kind, html) = try ReportRegistry.standard.render(path: file.path)
        XCTAssertEqual(kind, "scaling")
        XCTAssertEqual(count("<svg ", in: html), 2)
        XCTAssertEqual(count("class=\"ideal-line\"", in: html), 1)
        XCTAssertEqual(count("class=\"measured-point\"", in: html), 5)
        XCTAssertEqual(count("class=\"simulated-line\"", in: html), 1)
        // Speedups are recomputed from the times: 63.66 / 9.78 = 6.51 at 8 workers.
        XCTAssertTrue(html.contains("<td class=\"num\">8</td><td class=\"num\">9.78</td><td class=\"num\">28.0</td><td class=\"num\">89%</td><td class=\"num\">6.51</td><td class=\"num\">0.81</td>"))
        // The ideal line runs from (1, 1) to (16, 16): same pixel distance along both axes' domains.
        let chart = try XCTUnwrap(html.components(separatedBy: "class=\"ideal-line\"").first?.components(separatedBy: "<polyline points=\"").last)
        let points = chart.split(separator: "\"").first!.split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
        XCTAssertEqual(points.count, 2)
        XCTAssertLessThan(points[1][1], points[0][1], "the ideal line rises")
    }

    func testADirectoryOfScalingCSVsIsOneReportWithOneSeriesEach() throws {
        try csv.write(to: dir.appendingPathComponent("asha.csv"), atomically: true, encoding: .utf8)
        try csv.replacingOccurrences(of: "asha,", with: "fedavg,").write(to: dir.appendingPathComponent("fedavg.csv"), atomically: true, encoding: .utf8)
        try "not,a,scaling,table\n".write(to: dir.appendingPathComponent("other.csv"), atomically: true, encoding: .utf8)
        let (kind, html) = try ReportRegistry.standard.render(path: dir.path)
        XCTAssertEqual(kind, "scaling")
        XCTAssertTrue(html.contains("<title>Scaling: asha, fedavg</title>"))
        XCTAssertEqual(count("class=\"measured-line\" data-experiment=\"fedavg\"", in: html), 1)
        XCTAssertEqual(count("class=\"measured-point\"", in: html), 10)
    }

    // MARK: Finding the kind

    func testSomethingThatIsNoRunIsOneReadableError() throws {
        XCTAssertThrowsError(try ReportRegistry.standard.render(path: dir.appendingPathComponent("missing").path)) { e in
            XCTAssertEqual("\(e)", "\(dir.appendingPathComponent("missing").path) does not exist")
        }
        XCTAssertThrowsError(try ReportRegistry.standard.render(path: dir.path)) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot tell what kind of run \(dir.standardizedFileURL.path) is (it has no events.jsonl and no scaling CSV); cohort report reads tune: "), "\(e)")
            XCTAssertTrue("\(e)".contains("; scaling: "), "\(e)")
        }
        // A journal of another workload, not yet known to this build.
        try #"{"event":"round","round":0,"time":0.0}"#.appending("\n").write(to: dir.appendingPathComponent("events.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReportRegistry.standard.render(path: dir.path)) { e in
            XCTAssertTrue("\(e)".contains(#"its events.jsonl opens with {"event":"round","round":0,"time":0.0}"#), "\(e)")
        }
    }

    func testARegisteredRendererIsTriedFirst() throws {
        struct RoundsReport: ReportRenderer {
            let kind = "federated"
            let accepts = "a federated run"
            func canRender(_ input: ReportInput) -> Bool { input.firstEvent?["event"]?.stringValue == "round" }
            func render(_ input: ReportInput) throws -> HTMLPage { HTMLPage(title: "rounds", kind: kind) }
        }
        try #"{"event":"round","round":0,"time":0.0}"#.appending("\n").write(to: dir.appendingPathComponent("events.jsonl"), atomically: true, encoding: .utf8)
        var registry = ReportRegistry.standard
        registry.register(RoundsReport())
        XCTAssertEqual(try registry.render(path: dir.path).kind, "federated")
    }

    func testReportsGoNextToWhatTheyDescribe() {
        XCTAssertEqual(ReportRegistry.defaultOutput(for: dir.path).lastPathComponent, "report.html")
        XCTAssertEqual(ReportRegistry.defaultOutput(for: dir.appendingPathComponent("asha.csv").path).lastPathComponent, "asha.html")
    }

    // MARK: Parts

    func testTicksAreRoundNumbers() {
        XCTAssertEqual(Scale.niceStep(0.13), 0.2)
        XCTAssertEqual(Scale.niceStep(3.1), 5)
        XCTAssertEqual(Scale.niceStep(70), 100)
        let linear = Scale(kind: .linear, domain: (0, 1), range: (0, 100))
        XCTAssertEqual(linear.ticks(count: 5), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(linear(0.25), 25)
        let log = Scale(kind: .log, domain: (1, 1000), range: (0, 300))
        XCTAssertEqual(log.ticks(), [1, 10, 100, 1000])
        XCTAssertEqual(log(10), 100, accuracy: 1e-9)
        XCTAssertEqual(Scale(kind: .log, domain: (1, 30), range: (0, 1)).ticks(), [1, 2, 5, 10, 20])
        // A fitted scale pads the data and widens a single value.
        let fitted = Scale(covering: [5, 5], range: (0, 1))
        XCTAssertLessThan(fitted.domain.low, 5)
        XCTAssertGreaterThan(fitted.domain.high, 5)
    }

    func testNumbersAndTextAreFormattedForReading() {
        XCTAssertEqual(NumberFormat.short(0.24575301437466038), "0.2458")
        XCTAssertEqual(NumberFormat.short(81), "81")
        XCTAssertEqual(NumberFormat.short(1.5e-5), "1.50e-05")
        XCTAssertEqual(escapeXML(#"a<b & "c"'"#), "a&lt;b &amp; &quot;c&quot;&#39;")
    }
}
