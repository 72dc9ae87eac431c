import Foundation

/// Figures of merit read from a journal, the same way for real and simulated runs:
/// time to a target metric, results per second and how busy the workers were.
public enum RunAnalysis {
    /// The first time a result trained to at least `resource` reached `target`
    /// (at or better, in `mode`); `nil` if none did. This is the time a user of the
    /// run would have had a configuration that good, fully trained, in hand.
    public static func timeToTarget(_ events: [JournalEvent], target: Double, mode: MetricMode, resource: Double) -> Double? {
        for case let .result(f) in events where reaches(f, target: target, mode: mode, resource: resource) {
            return f.time
        }
        return nil
    }

    /// Whether one result counts as reaching the target.
    public static func reaches(_ f: JournalEvent.Finish, target: Double, mode: MetricMode, resource: Double) -> Bool {
        guard let m = f.metric, f.resource >= resource * (1 - 1e-12) else { return false }
        return m == target || mode.isBetter(m, than: target)
    }

    /// One bar of a worker's timeline: a job from its start to its answer (or to the
    /// moment its worker was declared lost).
    public struct JobSpan: Equatable, Sendable {
        public var worker: Int
        public var trial: Int
        public var rung: Int
        public var start: Double
        public var end: Double
        public enum Ending: String, Equatable, Sendable { case result, failed, lost }
        public var ending: Ending
    }

    /// Every job's span, in the order the jobs ended. A job still running when the
    /// journal stops (or when the run was killed and resumed) has no span.
    public static func spans(_ events: [JournalEvent]) -> [JobSpan] {
        var open: [Int: (trial: Int, rung: Int, since: Double)] = [:]   // by worker
        var out: [JobSpan] = []
        func close(worker: Int, trial: Int, rung: Int, at t: Double, _ ending: JobSpan.Ending) {
            guard let o = open[worker], o.trial == trial, o.rung == rung else { return }
            open[worker] = nil
            out.append(JobSpan(worker: worker, trial: trial, rung: rung, start: o.since, end: t, ending: ending))
        }
        for event in events {
            switch event {
            case let .start(s): open[s.worker] = (s.job.trial, s.job.rung, s.time)
            case let .result(f): close(worker: f.worker, trial: f.trial, rung: f.rung, at: f.time, .result)
            case let .failed(f): close(worker: f.worker, trial: f.trial, rung: f.rung, at: f.time, .failed)
            case let .lost(l): close(worker: l.worker, trial: l.trial, rung: l.rung, at: l.time, .lost)
            case .resume: open.removeAll()
            case .run, .stop, .end: break
            }
        }
        return out
    }

    /// The mean number of busy workers in each of `slices` equal slices of
    /// [0, `duration`]: how a report draws occupancy when there are too many workers
    /// for one timeline row each. Each span adds its overlap with every slice it
    /// touches, measured from both ends, so a start or end that rounds onto a slice
    /// boundary loses nothing; time outside [0, `duration`] is not counted.
    public static func busyWorkers(_ spans: [JobSpan], duration: Double, slices: Int) -> [Double] {
        guard slices > 0 else { return [] }
        let width = max(duration, 1e-9) / Double(slices)
        var busyTime = [Double](repeating: 0, count: slices)
        for s in spans where s.end > s.start {
            let first = max(0, min(slices - 1, Int(s.start / width)))
            let last = max(first, min(slices - 1, Int(s.end / width)))
            for k in first ... last {
                let lo = Double(k) * width
                let hi = Double(k + 1) * width
                busyTime[k] += max(0, min(s.end, hi) - max(s.start, lo))
            }
        }
        return busyTime.map { $0 / width }
    }

    /// A run's throughput and utilisation.
    public struct Throughput: Equatable, Sendable {
        /// Workers named in the `run` event (or seen in the journal).
        public var workers: Int
        /// Seconds from the start of the run to its last event.
        public var duration: Double
        /// `result` and `failed` events.
        public var results: Int
        public var resultsPerSecond: Double
        /// Busy seconds over (workers x duration): the mean fraction of time a worker had a job.
        public var busyFraction: Double
    }

    public static func throughput(_ events: [JournalEvent]) -> Throughput {
        var workers = 0
        var seen = Set<Int>()
        var results = 0
        var duration = 0.0
        for event in events {
            duration = Swift.max(duration, event.time)
            switch event {
            case let .run(r): workers = Swift.max(workers, r.workers)
            case let .start(s): seen.insert(s.worker)
            case .result, .failed: results += 1
            default: break
            }
        }
        workers = Swift.max(workers, seen.count)
        let busy = spans(events).reduce(0) { $0 + ($1.end - $1.start) }
        return Throughput(workers: workers, duration: duration, results: results,
                          resultsPerSecond: duration > 0 ? Double(results) / duration : 0,
                          busyFraction: duration > 0 && workers > 0 ? Swift.min(1, busy / (duration * Double(workers))) : 0)
    }
}

extension SchedulerSpec {
    /// The resource of a fully trained configuration: R for random search, the top
    /// rung r * eta^floor(log_eta(R/r)) for the successive-halving family (equal to
    /// R when R/r is a power of eta).
    public var topResource: Double {
        if kind == .random { return maxResource }
        return RungLadder(minResource: minResource, maxResource: maxResource, eta: eta).resource(rung: maxRate)
    }
}
