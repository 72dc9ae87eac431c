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
