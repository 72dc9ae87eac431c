import CohortFiles
import Foundation

/// One line of `events.jsonl`.
///
/// Required by the format: `start` for every job dispatched (new trials and
/// promotions alike), `result` for every finished job, `failed` with a reason, and a
/// final `end`; each with `time`, seconds since the run began. Also written: `run`
/// (first line: what was run), `lost` (a worker stopped answering; its job goes
/// back to the queue), `stop` (the run was asked to stop by a signal and left on
/// purpose; jobs still in flight run again on resume) and `resume` (the run was
/// restarted from this journal).
public enum JournalEvent: Equatable, Sendable {
    case run(RunInfo)
    case start(Start)
    case result(Finish)
    case failed(Finish)
    case lost(Lost)
    case resume(time: Double, requeued: Int)
    case stop(time: Double, reason: String, inFlight: Int)
    case end(End)

    public struct RunInfo: Equatable, Sendable {
        public var name: String
        public var scheduler: String
        public var seed: UInt64
        public var workers: Int
        public var time: Double
        /// What was trained, for a user's program: its command, working directory and
        /// the SHA-256 of the files it names.
        public var trainable: JSONValue?
        public init(name: String, scheduler: String, seed: UInt64, workers: Int, time: Double, trainable: JSONValue? = nil) {
            self.name = name; self.scheduler = scheduler; self.seed = seed; self.workers = workers; self.time = time
            self.trainable = trainable
        }
    }

    public struct Start: Equatable, Sendable {
        public var job: Job
        public var worker: Int
        public var time: Double
        public init(job: Job, worker: Int, time: Double) { self.job = job; self.worker = worker; self.time = time }
    }

    /// A `result` (with `metric`) or a `failed` (with `reason`) event.
    public struct Finish: Equatable, Sendable {
        public var trial: Int
        public var bracket: Int
        public var rung: Int
        public var resource: Double
        public var metric: Double?
        public var reason: String?
        public var worker: Int
        /// Seconds the worker spent on the job.
        public var seconds: Double
        public var time: Double
        /// Extra numeric results the trainable reported besides its metric.
        public var metrics: [String: Double]
        public init(trial: Int, bracket: Int, rung: Int, resource: Double, metric: Double?, reason: String?,
                    worker: Int, seconds: Double, time: Double, metrics: [String: Double] = [:]) {
            self.trial = trial; self.bracket = bracket; self.rung = rung; self.resource = resource
            self.metric = metric; self.reason = reason; self.worker = worker; self.seconds = seconds; self.time = time
            self.metrics = metrics
        }
        public var result: TrialResult {
            if let metric { return .metric(trial: trial, rung: rung, metric) }
            return .failed(trial: trial, rung: rung, reason ?? "failed")
        }
    }

    public struct Lost: Equatable, Sendable {
        public var trial: Int
        public var bracket: Int
        public var rung: Int
        public var worker: Int
        public var reason: String
        public var time: Double
        public init(trial: Int, bracket: Int, rung: Int, worker: Int, reason: String, time: Double) {
            self.trial = trial; self.bracket = bracket; self.rung = rung; self.worker = worker; self.reason = reason; self.time = time
        }
    }

    public struct End: Equatable, Sendable {
        public var time: Double
        public var reason: String
        public var trials: Int
        public var results: Int
        public var failures: Int
        public var bestTrial: Int?
        public var bestMetric: Double?
        public init(time: Double, reason: String, trials: Int, results: Int, failures: Int, bestTrial: Int?, bestMetric: Double?) {
            self.time = time; self.reason = reason; self.trials = trials; self.results = results
            self.failures = failures; self.bestTrial = bestTrial; self.bestMetric = bestMetric
        }
    }

    public var time: Double {
        switch self {
        case let .run(r): return r.time
        case let .start(s): return s.time
        case let .result(f), let .failed(f): return f.time
        case let .lost(l): return l.time
        case let .resume(t, _): return t
        case let .stop(t, _, _): return t
        case let .end(e): return e.time
        }
    }

    public var name: String {
        switch self {
        case .run: return "run"
        case .start: return "start"
        case .result: return "result"
        case .failed: return "failed"
        case .lost: return "lost"
        case .resume: return "resume"
        case .stop: return "stop"
        case .end: return "end"
        }
    }
}

// MARK: Encoding

extension JournalEvent {
    /// Times keep full precision: a replay re-asks the scheduler at the journaled
    /// time, and a rounded time could fall on the other side of a time limit.
    static func seconds(_ t: Double) -> JSONValue { .double(t) }

    public var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [("event", .string(name))]
        switch self {
        case let .run(r):
            m += [("name", .string(r.name)), ("scheduler", .string(r.scheduler)), ("seed", .int(Int(bitPattern: UInt(r.seed)))),
                  ("workers", .int(r.workers))]
            if let t = r.trainable { m.append(("trainable", t)) }
        case let .start(s):
            m += [("trial", .int(s.job.trial)), ("bracket", .int(s.job.bracket)), ("rung", .int(s.job.rung)),
                  ("resource", .number(s.job.resource)), ("worker", .int(s.worker)), ("config", s.job.config.json)]
            if let from = s.job.resumeFrom { m.append(("resume_from", .number(from))) }
        case let .result(f), let .failed(f):
            m += [("trial", .int(f.trial)), ("bracket", .int(f.bracket)), ("rung", .int(f.rung)),
                  ("resource", .number(f.resource))]
            if let metric = f.metric { m.append(("metric", .double(metric))) }
            if let reason = f.reason { m.append(("reason", .string(reason))) }
            if !f.metrics.isEmpty { m.append(("metrics", .object(f.metrics.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }))) }
            m += [("worker", .int(f.worker)), ("seconds", JournalEvent.seconds(f.seconds))]
        case let .lost(l):
            m += [("trial", .int(l.trial)), ("bracket", .int(l.bracket)), ("rung", .int(l.rung)),
                  ("worker", .int(l.worker)), ("reason", .string(l.reason))]
        case let .resume(_, requeued):
            m.append(("requeued", .int(requeued)))
        case let .stop(_, reason, inFlight):
            m += [("reason", .string(reason)), ("in_flight", .int(inFlight))]
        case let .end(e):
            m += [("reason", .string(e.reason)), ("trials", .int(e.trials)), ("results", .int(e.results)),
                  ("failures", .int(e.failures))]
            if let t = e.bestTrial { m.append(("best_trial", .int(t))) }
            if let b = e.bestMetric { m.append(("best_metric", .double(b))) }
        }
        m.append(("time", JournalEvent.seconds(time)))
        return .object(m)
    }

    /// The finite numbers of a `metrics` object.
    static func metrics(_ json: JSONValue?) -> [String: Double] {
        var m: [String: Double] = [:]
        for (k, v) in json?.objectMembers ?? [] { if let d = v.doubleValue, d.isFinite { m[k] = d } }
        return m
    }

    /// The event as one journal line, newline included.
    public var line: String { json.description + "\n" }

    /// Reads an event back; `space` retypes the configuration's values.
    public init(json: JSONValue, space: SearchSpace) throws {
        func need<T>(_ key: String, _ get: (JSONValue) -> T?) throws -> T {
            guard let v = json[key], let x = get(v) else { throw JournalError.malformed("field '\(key)' is missing or of the wrong kind") }
            return x
        }
        let kind: String = try need("event") { $0.stringValue }
        let time: Double = try need("time") { $0.doubleValue }
        switch kind {
        case "run":
            let seed: Int = try need("seed") { $0.intValue }
            self = .run(RunInfo(name: try need("name") { $0.stringValue }, scheduler: try need("scheduler") { $0.stringValue },
                                seed: UInt64(bitPattern: Int64(seed)), workers: try need("workers") { $0.intValue }, time: time,
                                trainable: json["trainable"]))
        case "start":
            let config = try space.config(from: try need("config") { $0 })
            let job = Job(trial: try need("trial") { $0.intValue }, config: config, bracket: json["bracket"]?.intValue ?? 0,
                          rung: try need("rung") { $0.intValue }, resource: try need("resource") { $0.doubleValue },
                          resumeFrom: json["resume_from"]?.doubleValue)
            self = .start(Start(job: job, worker: try need("worker") { $0.intValue }, time: time))
        case "result", "failed":
            let f = Finish(trial: try need("trial") { $0.intValue }, bracket: json["bracket"]?.intValue ?? 0,
                           rung: try need("rung") { $0.intValue }, resource: try need("resource") { $0.doubleValue },
                           metric: kind == "result" ? try need("metric") { $0.doubleValue } : nil,
                           reason: kind == "failed" ? (json["reason"]?.stringValue ?? "failed") : nil,
                           worker: try need("worker") { $0.intValue }, seconds: json["seconds"]?.doubleValue ?? 0, time: time,
                           metrics: Self.metrics(json["metrics"]))
            self = kind == "result" ? .result(f) : .failed(f)
        case "lost":
            self = .lost(Lost(trial: try need("trial") { $0.intValue }, bracket: json["bracket"]?.intValue ?? 0,
                              rung: try need("rung") { $0.intValue }, worker: try need("worker") { $0.intValue },
                              reason: json["reason"]?.stringValue ?? "", time: time))
        case "resume":
            self = .resume(time: time, requeued: json["requeued"]?.intValue ?? 0)
        case "stop":
            self = .stop(time: time, reason: json["reason"]?.stringValue ?? "", inFlight: json["in_flight"]?.intValue ?? 0)
        case "end":
            self = .end(End(time: time, reason: json["reason"]?.stringValue ?? "", trials: json["trials"]?.intValue ?? 0,
                            results: json["results"]?.intValue ?? 0, failures: json["failures"]?.intValue ?? 0,
                            bestTrial: json["best_trial"]?.intValue, bestMetric: json["best_metric"]?.doubleValue))
        default:
            throw JournalError.malformed("unknown event '\(kind)'")
        }
    }
}

/// Problems reading or replaying a journal.
public enum JournalError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case badLine(line: Int, String)
    case mismatch(line: Int, String)
    case io(String)

    public var description: String {
        switch self {
        case let .malformed(s): return s
        case let .badLine(n, s): return "events.jsonl line \(n): \(s)"
        case let .mismatch(n, s): return "events.jsonl line \(n) does not follow from the config: \(s)"
        case let .io(s): return s
        }
    }
}
