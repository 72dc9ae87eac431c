import CohortCluster
import CohortFiles
import Foundation

/// How long a job may run before its worker is declared lost: a fixed part plus a
/// part per resource unit the job trains, so a rung-0 job and a top-rung job are not
/// held to one wall-clock limit.
public struct JobTimeout: Equatable, Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// `farm.job_timeout`: seconds any job may take.
    public var fixed: Double
    /// `farm.job_timeout_per_unit`: seconds more per resource unit trained in the job.
    public var perUnit: Double

    public init(fixed: Double, perUnit: Double = 0) {
        self.fixed = fixed
        self.perUnit = perUnit
    }

    public init(floatLiteral value: Double) { self.init(fixed: value) }
    public init(integerLiteral value: Int) { self.init(fixed: Double(value)) }

    /// The limit of `job` in seconds.
    public func limit(for job: Job) -> Double {
        fixed + perUnit * Swift.max(0, job.resource - (job.resumeFrom ?? 0))
    }

    /// Why a worker was declared lost, for the journal.
    public func reason(for job: Job) -> String {
        if perUnit == 0 { return "no answer within job_timeout (\(JSONValue.number(fixed)) s)" }
        return "no answer within \(JSONValue.number(limit(for: job))) s (job_timeout \(JSONValue.number(fixed)) s + job_timeout_per_unit \(JSONValue.number(perUnit)) s x \(JSONValue.number(job.resource - (job.resumeFrom ?? 0))) units)"
    }
}

/// The `farm:` section: how the coordinator treats workers that do not answer, jobs
/// that keep killing the run, a request to stop, and which GPUs each worker uses.
///
/// ```yaml
/// farm:
///   job_timeout: 60            # seconds any job may take before its worker is lost
///   job_timeout_per_unit: 30   # plus this much per resource unit the job trains
///   max_crashes: 2             # a job in flight at this many deaths in a row fails
///   stop_grace: 20             # on SIGTERM/SIGINT/SIGUSR1: seconds to let jobs finish
///   devices: auto              # GPUs per host: auto (the host's), none, or a list [0, 1]
///   devices_per_trial: 1       # GPUs each worker (one trial at a time) is given
///   ranks_per_trial: 1         # worker ranks that train each trial together, data-parallel
///   affinity: true             # send a job to the worker that holds its cached prefix
/// ```
///
/// With `ranks_per_trial: k` the worker ranks form groups of k (``TrainingGroups``),
/// each group training one trial at a time, every rank a shard of every batch.
public struct FarmSettings: Equatable, Sendable {
    public var jobTimeout: JobTimeout?
    public var maxCrashes = 2
    public var stopGrace = 20.0
    public var devices = DevicePlacement()
    public var ranksPerTrial = 1
    /// Among the jobs ready at once, give a free worker the one whose cached
    /// intermediate results it holds (trainables that reuse prefixes, ``PrefixAffinity``).
    public var affinity = true

    public init(jobTimeout: JobTimeout? = nil, maxCrashes: Int = 2, stopGrace: Double = 20, devices: DevicePlacement = DevicePlacement()) {
        self.jobTimeout = jobTimeout
        self.maxCrashes = maxCrashes
        self.stopGrace = stopGrace
        self.devices = devices
    }

    /// Reads the section (absent: the defaults).
    public init(_ section: ConfigSection?) {
        guard let section else { return }
        defer { section.finish() }
        let fixed = section.double("job_timeout", max: Limits.seconds, above: 0)
        let perUnit = section.double("job_timeout_per_unit", min: 0, max: Limits.seconds)
        if fixed != nil || perUnit != nil { jobTimeout = JobTimeout(fixed: fixed ?? 0, perUnit: perUnit ?? 0) }
        maxCrashes = section.int("max_crashes", default: maxCrashes, min: 1, max: 100)
        stopGrace = section.double("stop_grace", default: stopGrace, min: 0, max: Limits.seconds)
        devices.perTrial = section.int("devices_per_trial", default: 1, min: 1, max: 1024)
        ranksPerTrial = section.int("ranks_per_trial", default: 1, min: 1, max: 4096)
        affinity = section.bool("affinity", default: true)
        if let d = section.value("devices") {
            if let items = d.arrayValue {
                let ids = items.compactMap { $0.intValue.map(String.init) ?? $0.stringValue }
                if ids.count != items.count || ids.contains(where: { $0.isEmpty || $0.contains(",") }) {
                    section.issue("devices", "must list device ids (numbers or names), e.g. [0, 1]")
                }
                devices.source = .list(ids)
            } else if d.stringValue == "auto" {
                devices.source = .auto
            } else if d.stringValue == "none" {
                devices.source = .none
            } else {
                section.issue("devices", "must be auto, none or a list of device ids, got \(d.description)")
            }
        }
    }
}
