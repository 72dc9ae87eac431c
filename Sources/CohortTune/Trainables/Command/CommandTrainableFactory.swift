import CohortFiles
import Foundation

/// Builds the jobs of a user's own program (`trainable: {type: command, ...}`, see
/// ``CommandSpec``): one process per job, or one persistent process per worker
/// that speaks the JSON-lines protocol of ``ProtocolProcess``.
///
/// A worker owns one factory, so the persistent process it holds serves that
/// worker's jobs one after another; it is started at the first job (rank 0 never
/// starts one) and again after it died or timed out.
public final class CommandTrainableFactory: TrainableFactory, @unchecked Sendable {
    public let spec: CommandSpec
    public let context: TrainableContext
    private let lock = NSLock()
    private var process: ProtocolProcess?

    public init(section s: ConfigSection, context: TrainableContext) throws {
        spec = CommandSpec(section: s)
        self.context = context
        s.finish(also: ["type"])
        if s.issues.isEmpty { spec.checkProgram(in: s) }
        try s.issues.throwIfAny()
    }

    public func make(trial: Int, config: TrialConfig) throws -> any Trainable {
        throw TuneError.io("a command trainable runs only as a job of the farm")
    }

    public func make(for job: JobContext) throws -> any Trainable {
        switch spec.mode {
        case .perJob: return CommandJob(job, factory: self)
        case .persistent: return PersistentJob(job, factory: self)
        }
    }

    public func runRecord() -> JSONValue? { spec.runRecord() }

    public func workerWillStop() {
        lock.lock(); defer { lock.unlock() }
        process?.stop()
        process = nil
    }

    // MARK: What every job is given

    /// The seed of `trial`: a pure function of the experiment seed and the trial id,
    /// below 2^31 so that every framework's seeding function takes it.
    public static func seed(experiment: UInt64, trial: Int) -> Int {
        var z = experiment &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: trial &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z & 0x7FFF_FFFF)
    }

    /// The time limit of `job`, if the section sets one.
    func limit(for job: Job) -> Double? { spec.timeout?.limit(for: job) }

    /// `--name value` for each hyperparameter.
    static func flags(_ config: TrialConfig) -> [String] {
        config.entries.flatMap { e -> [String] in
            let value: String
            switch e.value {
            case let .int(i): value = String(i)
            case let .double(d): value = "\(d)"
            case let .string(s): value = s
            case let .bool(b): value = b ? "true" : "false"
            }
            return ["--\(e.name)", value]
        }
    }

    /// The persistent process of this worker, started when there is none.
    func persistentProcess(worker: Int, run: RunDirectory, devices: [String: String]) throws -> ProtocolProcess {
        lock.lock(); defer { lock.unlock() }
        if let p = process, p.isRunning { return p }
        process = nil
        try FileManager.default.createDirectory(at: run.workersURL, withIntermediateDirectories: true)
        var env = spec.environment
        for (k, v) in devices { env[k] = v }
        env["COHORT_WORKER"] = String(worker)
        env["COHORT_RUN_DIR"] = run.url.path
        let command = ChildProcess.Command(arguments: spec.arguments, workingDirectory: spec.workingDirectory,
                                           environment: ChildEnvironment.make(extra: env),
                                           stdoutPath: run.workerFile(worker: worker, "stdout").path,
                                           stderrPath: run.workerFile(worker: worker, "stderr").path)
        let p = try ProtocolProcess(command, startTimeout: spec.timeout.map { Swift.max($0.fixed, 60) } ?? 600)
        process = p
        return p
    }

    /// Forgets the persistent process after it failed (it was killed, or it ended).
    func discardProcess(_ p: ProtocolProcess) {
        lock.lock(); defer { lock.unlock() }
        p.stop(grace: 0.5)
        if process === p { process = nil }
    }
}

/// What the jobs of both modes share: checkpoint directories, the result file, the
/// reported metrics.
class CommandJobBase: ReportingTrainable {
    let context: JobContext
    let factory: CommandTrainableFactory
    var trainedResource: Double = 0
    var checkpointIn: URL?
    var previousResource: Double?
    /// An empty directory the job saves into; renamed to the checkpoint on success.
    var staging: URL?
    var metric: Double?
    var extraMetrics: [String: Double] = [:]
    var asksRetry = false

    init(_ context: JobContext, factory: CommandTrainableFactory) {
        self.context = context
        self.factory = factory
    }

    deinit {
        if let staging { try? FileManager.default.removeItem(at: staging) }
    }

    var job: Job { context.job }
    var run: RunDirectory { context.run }
    var seed: Int { CommandTrainableFactory.seed(experiment: factory.context.seed, trial: job.trial) }
    var resultURL: URL { run.jobFile(trial: job.trial, rung: job.rung, "result.json") }

    /// Runs the job; each mode overrides it.
    func train(to resource: Double) throws { throw TuneError.io("a command job of no mode") }

    func restore(from url: URL, resource: Double) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TuneError.io("the checkpoint of trial \(job.trial) at resource \(JSONValue.number(resource)) is missing: \(url.path)")
        }
        checkpointIn = url
        previousResource = resource
        trainedResource = resource
    }

    /// A fresh, empty checkpoint directory for this job (a crashed attempt's is removed).
    func makeStaging() throws -> URL {
        let url = run.checkpoint(trial: job.trial, resource: job.resource).appendingPathExtension("partial")
        let fm = FileManager.default
        try? fm.removeItem(at: url)
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        staging = url
        return url
    }

    func evaluate() throws -> Double {
        guard let metric else { throw TuneError.io("no metric: the job did not train") }
        return metric
    }

    /// The held-out metric the job reported as `test_metric`, read back from its result file.
    func testMetric() throws -> Double? {
        guard let data = FileManager.default.contents(atPath: resultURL.path),
              let json = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        return json["test_metric"]?.doubleValue
    }

    func save(to url: URL) throws {
        guard let staging else { throw TuneError.io("nothing to save: the job did not train") }
        // A crashed attempt may have left the checkpoint already: replaced.
        if rename(staging.path, url.path) != 0 {
            guard errno == ENOTEMPTY || errno == EEXIST else { throw TuneError.io("cannot save \(url.path): \(String(cString: strerror(errno)))") }
            try FileManager.default.removeItem(at: url)
            guard rename(staging.path, url.path) == 0 else { throw TuneError.io("cannot save \(url.path): \(String(cString: strerror(errno)))") }
        }
        self.staging = nil
    }

    /// Takes the metric and the extra numbers of a result object; the reason it
    /// cannot be used otherwise.
    func accept(result json: JSONValue, from source: String, store: Bool = true) throws {
        guard let members = json.objectMembers else { throw CommandJobFailure("\(source) is not a JSON object") }
        if let error = json["error"]?.stringValue, json["metric"]?.doubleValue == nil {
            throw CommandJobFailure("the program reported: \(error)")
        }
        guard let value = json["metric"] else { throw CommandJobFailure("\(source) has no 'metric'") }
        guard let m = value.doubleValue else { throw CommandJobFailure("metric is \(value.isNull ? "null" : value.description), not a number") }
        guard m.isFinite else { throw CommandJobFailure("metric is \(m)") }
        metric = m
        for (k, v) in members where k != "metric" {
            if let d = v.doubleValue, d.isFinite, v.boolValue == nil { extraMetrics[k] = d }
        }
        // The journal is the durable record; this copy is for reading the test metric
        // back, so it is renamed into place without an fsync of its own.
        if store { try LogFile.replace(resultURL, with: json.description + "\n") }
    }

    /// Prepares the per-job files: the jobs folder, a header in the logs naming the attempt.
    func openLogs() throws -> (stdout: URL, stderr: URL, stderrOffset: UInt64) {
        try FileManager.default.createDirectory(at: run.jobsURL, withIntermediateDirectories: true)
        unlink(resultURL.path)
        let out = run.jobFile(trial: job.trial, rung: job.rung, "stdout"), err = run.jobFile(trial: job.trial, rung: job.rung, "stderr")
        let header = "== trial \(job.trial) rung \(job.rung) to resource \(JSONValue.number(job.resource)) on worker \(context.worker), \(Self.timestamp()) ==\n"
        try LogFile.append(header, to: out)
        let offset = try LogFile.append(header, to: err)
        return (out, err, offset)
    }

    /// The time now as UTC `2026-01-31T12:00:00Z` (thread-safe, unlike a shared formatter).
    static func timestamp() -> String {
        var t = time(nil), parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

}

/// A job's failure with the program's own words.
struct CommandJobFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
