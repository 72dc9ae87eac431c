import CohortFiles
import ArgumentParser
import CohortTune
import Foundation

/// `cohort bench scaling`: a scaling table from runs of the same work on different
/// worker counts.
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Tabulate time to target, throughput, busy fraction, speedup and efficiency of runs on different worker counts.",
        discussion: """
        Each RUN is one run of the same work with another worker count:
        - a tuning run directory: time until a fully trained result reaches the target
          (the config's scheduler.target, or --target); results per second; busy fraction;
        - a federated run directory (cohort fed): time until the global model's test
          accuracy reaches --target; rounds per second; workers = ranks;
        - a file holding `cohort train --json` output: time (sum of epoch seconds) until
          the test accuracy reaches --target; samples per second; workers = ranks.
        e.g.
          cohort bench scaling --experiment asha --csv scaling-asha.csv runs/w1 runs/w2 runs/w4
        """)

    @Argument(help: "Runs, one per worker count.")
    var runs: [String]

    @Option(parsing: .upToNextOption, help: "Simulated tuning runs of the same worker counts, in the same order (adds the predicted time to target).")
    var simulated: [String] = []

    @Option(help: "The experiment's name in the table.")
    var experiment = "asha"

    @Option(help: "Target metric (tuning runs: default the config's scheduler.target; fed and train runs: the test accuracy, required).")
    var target: Double?

    @Option(help: "Write the table as CSV to this file.")
    var csv: String?

    func run() throws {
        let table: ScalingTable
        do { table = try makeTable() } catch { throw TuneRunner.TuneInputError("\(error)") }
        func fmt(_ x: Double?, _ f: String = "%.2f") -> String { x.map { String(format: f, $0) } ?? "-" }
        print(Table(header: ["workers", "time to target s", "results/s", "busy", "speedup", "efficiency", "simulated s"],
                    rows: table.rows.map { r in
                        [String(r.workers), fmt(r.timeToTarget), fmt(r.resultsPerSecond, "%.1f"), fmt(r.busyFraction.map { $0 * 100 }, "%.0f%%"),
                         fmt(r.speedup), fmt(r.efficiency), fmt(r.simulatedTimeToTarget)]
                    }).rendered)
        if let csv {
            try table.csv.write(toFile: csv, atomically: true, encoding: .utf8)
            print("written to \(csv)")
        }
    }

    func makeTable() throws -> ScalingTable {
        guard !runs.isEmpty else { throw ValidationError("name at least one run") }
        if !simulated.isEmpty && simulated.count != runs.count {
            throw ValidationError("--simulated names \(simulated.count) runs for \(runs.count) real ones; give one per real run, in the same order")
        }
        return ScalingTable(rows: try runs.enumerated().map { i, path in try row(path, simulated: simulated.isEmpty ? nil : simulated[i]) })
    }

    func row(_ path: String, simulated sim: String?) throws -> ScalingTable.Row {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("\(path) does not exist") }
        let journal = URL(fileURLWithPath: path).appendingPathComponent("events.jsonl")
        let first = (try? String(contentsOf: journal, encoding: .utf8))?.split(separator: "\n").first.flatMap { try? JSONValue.parse(String($0)) }
        let isFederated = isDirectory.boolValue && first?["event"]?.stringValue == "start" && first?["clients"] != nil
        if let sim, !isDirectory.boolValue || isFederated {
            throw ValidationError("--simulated \(sim): only tuning runs have a simulated prediction, \(path) is not one")
        }
        if !isDirectory.boolValue { return try trainRow(path) }
        if isFederated { return try federatedRow(path, journal: journal) }
        let (config, events) = try Self.load(path)
        guard let goal = target.map({ StopTarget(metric: $0, resource: config.scheduler.topResource) }) ?? config.stopTarget else {
            throw ValidationError("\(path): its config has no scheduler.target; pass --target")
        }
        return ScalingTable.row(experiment: experiment, events: events, target: goal, mode: config.mode, simulated: try sim.map { try Self.load($0).1 })
    }

    /// A federated run: the global model's test accuracy at each evaluated round.
    func federatedRow(_ path: String, journal: URL) throws -> ScalingTable.Row {
        guard let target else { throw ValidationError("\(path) is a federated run: pass --target ACCURACY") }
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let ranks = lines.first?["ranks"]?.intValue ?? 1
        let arms = lines.filter { $0["event"]?.stringValue == "arm" }.count
        guard arms <= 1 else {
            throw ValidationError("\(path) has \(arms) arms; a scaling row needs one federated training (FedAvg without a search)")
        }
        let rounds = lines.filter { $0["event"]?.stringValue == "round" }
        let progress = rounds.compactMap { r -> (time: Double, metric: Double)? in
            guard let a = r["test_accuracy"], !a.isNull, let acc = a.doubleValue, let t = r["time"]?.doubleValue else { return nil }
            return (t, acc)
        }
        let last = rounds.compactMap { $0["time"]?.doubleValue }.max() ?? 0
        return ScalingTable.row(experiment: experiment, workers: ranks, progress: progress, target: target, mode: .max,
                                resultsPerSecond: last > 0 ? Double(rounds.count) / last : 0)
    }

    /// A `cohort train --json` outcome: test accuracy after each epoch.
    func trainRow(_ path: String) throws -> ScalingTable.Row {
        guard let target else { throw ValidationError("\(path) is a training outcome: pass --target ACCURACY") }
        let json: JSONValue
        do { json = try JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw ValidationError("\(path) is neither a run directory nor `cohort train --json` output (\(error))")
        }
        guard let epochs = json["epochs"]?.arrayValue else { throw ValidationError("\(path) has no epochs: not `cohort train --json` output") }
        var elapsed = 0.0
        var progress: [(time: Double, metric: Double)] = []
        var samples = 0.0, timed = 0.0      // samples per second over all epochs, not a mean of epochs' rates
        for e in epochs {
            let seconds = e["seconds"]?.doubleValue ?? 0
            elapsed += seconds
            if let a = e["testAccuracy"]?.doubleValue { progress.append((elapsed, a)) }
            if let r = e["samplesPerSecond"]?.doubleValue { samples += r * seconds; timed += seconds }
        }
        return ScalingTable.row(experiment: experiment, workers: json["ranks"]?.intValue ?? 1, progress: progress, target: target, mode: .max,
                                resultsPerSecond: timed > 0 ? samples / timed : 0)
    }

    static func load(_ path: String) throws -> (TuneConfig, [JournalEvent]) {
        let run = RunDirectory(URL(fileURLWithPath: path))
        let config = try TuneConfig.load(contentsOf: run.configURL)
        return (config, try JournalContents.read(url: run.journalURL, space: config.space).events)
    }
}
