import CohortFiles
import Foundation

/// A federated run's own files: `summary.json` at the end and each arm's latest
/// state, `checkpoints/arm-0000.safetensors`.
extension RunDirectory {
    public var summaryURL: URL { file("summary.json") }

    public func checkpoint(arm: Int) -> URL {
        checkpointsURL.appendingPathComponent(String(format: "arm-%04d.safetensors", arm))
    }
}
