import ArgumentParser
import CohortTune
import Foundation

/// `cohort bench sim-compare`: schedulers against each other on simulated clusters.
struct BenchSimCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim-compare",
        abstract: "Compare schedulers' time to a target metric on simulated clusters (multiples of time(R)).",
        discussion: """
        Every scheduler x worker count x condition x seed is one simulated run of the
        config's search (surrogate trainable), stopped when a fully trained result
        reaches the target or at --time-limit. e.g.
          cohort bench sim-compare --config examples/sim-compare.yaml \\
            --workers 25,500 --stragglers none,lognormal:1 --seeds 1-5
        """)

    @Option(help: "The base search (its scheduler section gives eta, r and R; surrogate trainable).")
    var config: String

    @Option(help: "Schedulers, comma-separated.")
    var schedulers = "asha,sha,random"

    @Option(help: "Worker counts, comma-separated.")
    var workers = "25,500"

    @Option(help: "Straggler models, comma-separated: none, lognormal:SIGMA, fraction:P:K.")
    var stragglers = "none,lognormal:1"

    @Option(help: "Drop probabilities, comma-separated (each combined with every straggler model).")
    var dropProbability = "0"

    @Option(help: "Seeds: a list (1,2,3) or a range (1-5).")
    var seeds = "1-5"

    @Option(help: "Target: the fully trained metric only this fraction of configurations reaches.")
    var targetQuantile: Double?

    @Option(help: "Target: a fixed metric value (instead of --target-quantile).")
    var target: Double?

    @Option(help: "Budget of each run in multiples of time(R).")
    var timeLimit = 20.0

    @Option(help: "Write every run as a CSV line to this file.")
    var csv: String?

    func run() throws {
        let plan: SchedulerComparison
        do { plan = try makePlan() } catch { throw TuneRunner.TuneInputError("\(error)") }
        let targetText: String
        switch plan.target {
        case let .value(v): targetText = "metric \(v)"
        case let .quantile(q): targetText = "the best \(q * 100)% of configurations (per seed, from \(plan.population) sampled)"
        }
        print("target: \(targetText); budget \(plan.timeLimit) x time(R) per run")
        let started = Date()
        let runs = try plan.run()
        let wall = Date().timeIntervalSince(started)

        func fmt(_ t: Double?) -> String { t.map { String(format: "%.2f", $0) } ?? "-" }
        let rows = SchedulerComparison.rows(runs)
        print(Table(header: ["workers", "condition", "scheduler", "median", "mean (reached)", "reached", "units/trial", "per seed (x time(R))"],
                    rows: rows.map { r in
                        [String(r.workers), r.condition, r.scheduler.rawValue, fmt(r.median), fmt(r.meanReached),
                         "\(r.reached)/\(r.times.count)", fmt(r.meanUnitsPerTrial), r.times.map(fmt).joined(separator: " ")]
                    }).rendered)
        print("")
        let verdicts = SchedulerComparison.verdicts(runs)
        print(Table(header: ["workers", "condition", "ASHA vs", "ASHA median", "rival median", "ASHA faster (seeds)", "claim"],
                    rows: verdicts.map { v in
                        [String(v.workers), v.condition, v.rival.rawValue, fmt(v.ashaMedian), fmt(v.rivalMedian),
                         "\(v.ashaWins)/\(v.seeds)", v.holds ? "holds" : "FAILS"]
                    }).rendered)
        let targets = Dictionary(runs.map { ($0.seed, $0.target) }, uniquingKeysWith: { a, _ in a })
        print("targets per seed: " + targets.keys.sorted().map { "\($0): \(String(format: "%.4f", targets[$0]!))" }.joined(separator: ", "))
        print(String(format: "%d simulated runs in %.1f s", runs.count, wall))
        if let csv {
            try SchedulerComparison.csv(runs).write(toFile: csv, atomically: true, encoding: .utf8)
            print("runs written to \(csv)")
        }
    }

    // MARK: Parsing

    func makePlan() throws -> SchedulerComparison {
        let base = try TuneConfig.load(contentsOf: URL(fileURLWithPath: config))
        let kinds = try list(schedulers).map { name -> SchedulerKind in
            guard let k = SchedulerKind(rawValue: name) else {
                throw ValidationError("--schedulers: unknown scheduler '\(name)' (expected \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return k
        }
        let counts = try list(workers).map { s -> Int in
            guard let n = Int(s), n >= 1 else { throw ValidationError("--workers: '\(s)' is not a positive whole number") }
            return n
        }
        let models = try list(stragglers).map { try StragglerModel(parsing: $0) }
        let drops = try list(dropProbability).map { s -> Double in
            guard let p = Double(s) else { throw ValidationError("--drop-probability: '\(s)' is not a number") }
            return p
        }
        let conditions = drops.flatMap { p in models.map { ClusterCondition(stragglers: $0, dropProbability: p) } }
        if target != nil && targetQuantile != nil { throw ValidationError("give --target or --target-quantile, not both") }
        let goal: ComparisonTarget = target.map { .value($0) } ?? .quantile(targetQuantile ?? 0.001)
        let plan = SchedulerComparison(base: base, schedulers: kinds, workers: counts, conditions: conditions,
                                       seeds: try seedList(seeds), target: goal, timeLimit: timeLimit)
        try plan.validate()
        return plan
    }

    func list(_ s: String) throws -> [String] {
        let items = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items.isEmpty { throw ValidationError("an empty list: '\(s)'") }
        return items
    }

    func seedList(_ s: String) throws -> [UInt64] {
        let parts = s.split(separator: "-").map(String.init)
        if parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b { return Array(a...b) }
        return try list(s).map { item in
            guard let v = UInt64(item) else { throw ValidationError("--seeds: '\(item)' is not a seed (a list 1,2,3 or a range 1-5)") }
            return v
        }
    }
}
