import Foundation

/// One scaling experiment as a table: the same work on more and more workers, how
/// long it took to reach the target and how well the workers were used. Written as
/// CSV (one file per experiment) by `scripts/scaling.sh` and read back by
/// `cohort report`.
///
/// Columns: `experiment, workers, time_to_target_s, results_per_s, busy_fraction,
/// speedup, efficiency, simulated_time_to_target_s`. Speedup is the time of the
/// row with the fewest workers over this row's time; efficiency is speedup over
/// the ratio of worker counts (1 is perfect scaling). An empty cell is a value
/// that does not exist (the target was not reached, or no simulation was run).
public struct ScalingTable: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var experiment: String
        public var workers: Int
        public var timeToTarget: Double?
        public var resultsPerSecond: Double
        /// The mean share of time a worker had work (job farms; `nil` for SPMD runs,
        /// where every rank works every step).
        public var busyFraction: Double?
        public var speedup: Double?
        public var efficiency: Double?
        /// What the simulated cluster predicted for the same search and worker count.
        public var simulatedTimeToTarget: Double?

        public init(experiment: String, workers: Int, timeToTarget: Double?, resultsPerSecond: Double, busyFraction: Double?,
                    speedup: Double? = nil, efficiency: Double? = nil, simulatedTimeToTarget: Double? = nil) {
            self.experiment = experiment
            self.workers = workers
            self.timeToTarget = timeToTarget
            self.resultsPerSecond = resultsPerSecond
            self.busyFraction = busyFraction
            self.speedup = speedup
            self.efficiency = efficiency
            self.simulatedTimeToTarget = simulatedTimeToTarget
        }
    }

    public var rows: [Row]

    public static let header = ["experiment", "workers", "time_to_target_s", "results_per_s", "busy_fraction",
                                "speedup", "efficiency", "simulated_time_to_target_s"]

    /// Rows sorted by workers, with speedup and efficiency against the smallest
    /// worker count of each experiment.
    public init(rows: [Row]) {
        var out = rows.sorted { ($0.experiment, $0.workers) < ($1.experiment, $1.workers) }
        for e in Set(out.map(\.experiment)) {
            guard let base = out.first(where: { $0.experiment == e }), let t0 = base.timeToTarget, t0 > 0 else { continue }
            for i in out.indices where out[i].experiment == e {
                guard let t = out[i].timeToTarget, t > 0 else { out[i].speedup = nil; out[i].efficiency = nil; continue }
                out[i].speedup = t0 / t
                out[i].efficiency = (t0 / t) / (Double(out[i].workers) / Double(base.workers))
            }
        }
        self.rows = out
    }

    /// A row measured from a tuning run's journal: time to `target` (fully trained),
    /// results per second and busy fraction.
    public static func row(experiment: String, events: [JournalEvent], target: StopTarget, mode: MetricMode,
                           simulated: [JournalEvent]? = nil) -> Row {
        let t = RunAnalysis.throughput(events)
        return Row(experiment: experiment, workers: t.workers,
                   timeToTarget: RunAnalysis.timeToTarget(events, target: target.metric, mode: mode, resource: target.resource),
                   resultsPerSecond: t.resultsPerSecond, busyFraction: t.busyFraction,
                   simulatedTimeToTarget: simulated.flatMap { RunAnalysis.timeToTarget($0, target: target.metric, mode: mode, resource: target.resource) })
    }

    /// A row from a run's progress: `(seconds, metric)` points in time order (rounds
    /// of federated training, epochs of data-parallel training), the first reaching
    /// `target` giving the time to target.
    public static func row(experiment: String, workers: Int, progress: [(time: Double, metric: Double)], target: Double,
                           mode: MetricMode, resultsPerSecond: Double) -> Row {
        let hit = progress.first { $0.metric == target || mode.isBetter($0.metric, than: target) }
        return Row(experiment: experiment, workers: workers, timeToTarget: hit?.time, resultsPerSecond: resultsPerSecond, busyFraction: nil)
    }

    // MARK: CSV

    public var csv: String {
        func num(_ x: Double?, _ digits: Int = 4) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "" }
        var lines = [Self.header.joined(separator: ",")]
        for r in rows {
            lines.append([r.experiment, String(r.workers), num(r.timeToTarget, 3), num(r.resultsPerSecond, 2), num(r.busyFraction, 3),
                          num(r.speedup, 3), num(r.efficiency, 3), num(r.simulatedTimeToTarget, 3)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a table written by ``csv`` (extra columns are ignored, missing optional
    /// ones are empty); a malformed file is a readable error naming the line.
    public static func parse(csv text: String, source: String = "scaling CSV") throws -> ScalingTable {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let head = lines.first else { throw ScalingTableError("\(source) is empty") }
        let columns = head.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        func index(_ name: String) -> Int? { columns.firstIndex(of: name) }
        guard let iw = index("workers"), let it = index("time_to_target_s") else {
            throw ScalingTableError("\(source): the header needs at least 'workers' and 'time_to_target_s' columns, got '\(head)'")
        }
        var rows: [Row] = []
        for (n, line) in lines.enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func cell(_ i: Int?) -> String { i.map { $0 < cells.count ? cells[$0] : "" } ?? "" }
            func number(_ name: String, _ i: Int?) throws -> Double? {
                let c = cell(i)
                if c.isEmpty { return nil }
                guard let d = Double(c), d.isFinite else { throw ScalingTableError("\(source) line \(n + 1): \(name) '\(c)' is not a number") }
                return d
            }
            guard let w = Int(cell(iw)), w >= 1 else { throw ScalingTableError("\(source) line \(n + 1): workers '\(cell(iw))' is not a positive whole number") }
            rows.append(Row(experiment: index("experiment").map { _ in cell(index("experiment")) } ?? "experiment", workers: w,
                            timeToTarget: try number("time_to_target_s", it),
                            resultsPerSecond: try number("results_per_s", index("results_per_s")) ?? 0,
                            busyFraction: try number("busy_fraction", index("busy_fraction")),
                            simulatedTimeToTarget: try number("simulated_time_to_target_s", index("simulated_time_to_target_s"))))
        }
        guard !rows.isEmpty else { throw ScalingTableError("\(source) has a header and no rows") }
        return ScalingTable(rows: rows)
    }
}

/// A scaling table that cannot be read.
public struct ScalingTableError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
