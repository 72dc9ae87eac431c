import CohortFiles
import Foundation

/// A tuning run's own files: `best.json` at the end, `simulation.json` for a simulated
/// cluster, and one checkpoint per trial and
/// rung, `checkpoints/trial-000042/r-9.ckpt`.
extension RunDirectory {
    public var bestURL: URL { file("best.json") }

    /// `simulation.json`: present only in runs made on a simulated cluster, whose
    /// journal times are virtual seconds.
    public var simulationURL: URL { file("simulation.json") }

    /// Where trial `trial`'s checkpoint after training to `resource` lives.
    public func checkpoint(trial: Int, resource: Double) -> URL {
        let dir = checkpointsURL.appendingPathComponent(String(format: "trial-%06d", trial))
        return dir.appendingPathComponent("r-\(JSONValue.number(resource)).ckpt")
    }
}

/// A user's program's files: `jobs/trial-000042-rung-2.stdout` (and `.stderr`,
/// `.result.json`, `.config.json`) per job, `workers/worker-3.stdout` (and `.stderr`)
/// per persistent worker process.
extension RunDirectory {
    public var jobsURL: URL { file("jobs") }
    public var workersURL: URL { file("workers") }

    /// Trial `trial`'s file of kind `suffix` (`stdout`, `stderr`, `result.json`, ...) for rung `rung`.
    public func jobFile(trial: Int, rung: Int, _ suffix: String) -> URL {
        jobsURL.appendingPathComponent(String(format: "trial-%06d-rung-%d.", trial, rung) + suffix)
    }

    public func workerFile(worker: Int, _ suffix: String) -> URL {
        workersURL.appendingPathComponent("worker-\(worker).\(suffix)")
    }
}
