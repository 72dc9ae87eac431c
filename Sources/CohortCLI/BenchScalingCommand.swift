import ArgumentParser
import CohortTune
import Foundation

/// `cohort bench scaling`: a scaling table from the run directories of one search
/// run on different worker counts.
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Tabulate time to target, results per second, busy fraction, speedup and efficiency of runs on different worker counts.",
        discussion: """
        Each RUN is a run directory of the same search with another worker count; the
        target is the config's scheduler.target (or --target). e.g.
          cohort bench scaling --experiment asha --csv scaling-asha.csv runs/w1 runs/w2 runs/w4
        """)

    @Argument(help: "Run directories, one per worker count.")
    var runs: [String]

    @Option(parsing: .upToNextOption, help: "Simulated runs of the same worker counts, in the same order (adds the predicted time to target).")
    var simulated: [String] = []

    @Option(help: "The experiment's name in the table.")
    var experiment = "asha"

    @Option(help: "Target metric (default: the config's scheduler.target).")
    var target: Double?

    @Option(help: "Write the table as CSV to this file.")
    var csv: String?

    func run() throws {
        let table: ScalingTable
        do { table = try makeTable() } catch { throw TuneRunner.TuneInputError("\(error)") }
        func fmt(_ x: Double?, _ f: String = "%.2f") -> String { x.map { String(format: f, $0) } ?? "-" }
        print(Table(header: ["workers", "time to target s", "results/s", "busy", "speedup", "efficiency", "simulated s"],
                    rows: table.rows.map { r in
                        [String(r.workers), fmt(r.timeToTarget), fmt(r.resultsPerSecond, "%.1f"), fmt(r.busyFraction * 100, "%.0f%%"),
                         fmt(r.speedup), fmt(r.efficiency), fmt(r.simulatedTimeToTarget)]
                    }).rendered)
        if let csv {
            try table.csv.write(toFile: csv, atomically: true, encoding: .utf8)
            print("written to \(csv)")
        }
    }

    func makeTable() throws -> ScalingTable {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory") }
        if !simulated.isEmpty && simulated.count != runs.count {
            throw ValidationError("--simulated names \(simulated.count) runs for \(runs.count) real ones; give one per real run, in the same order")
        }
        var rows: [ScalingTable.Row] = []
        for (i, path) in runs.enumerated() {
            let (config, events) = try Self.load(path)
            guard let goal = target.map({ StopTarget(metric: $0, resource: config.scheduler.topResource) }) ?? config.stopTarget else {
                throw ValidationError("\(path): its config has no scheduler.target; pass --target")
            }
            let sim = simulated.isEmpty ? nil : try Self.load(simulated[i]).1
            rows.append(ScalingTable.row(experiment: experiment, events: events, target: goal, mode: config.mode, simulated: sim))
        }
        return ScalingTable(rows: rows)
    }

    static func load(_ path: String) throws -> (TuneConfig, [JournalEvent]) {
        let run = RunDirectory(URL(fileURLWithPath: path))
        let config = try TuneConfig.load(contentsOf: run.configURL)
        return (config, try JournalContents.read(url: run.journalURL, space: config.space).events)
    }
}
