import Foundation

/// The files of one federated run: `config.yaml` (a copy of the config),
/// `events.jsonl` (the journal), `checkpoints/arm-0000.safetensors` (each arm's latest
/// state) and `summary.json` at the end. Every rank must see the directory.
public struct FedRunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url.standardizedFileURL }
    public init(path: String) { self.init(URL(fileURLWithPath: path)) }

    public var configURL: URL { url.appendingPathComponent("config.yaml") }
    public var journalURL: URL { url.appendingPathComponent("events.jsonl") }
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }

    public func checkpoint(arm: Int) -> URL {
        checkpointsURL.appendingPathComponent(String(format: "arm-%04d.safetensors", arm))
    }

    /// True when the directory exists and holds anything.
    public var isNonEmpty: Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).isEmpty
    }

    /// Creates a new run directory holding the config copy; refuses one that already
    /// holds something, so a finished run is never overwritten.
    public func create(configText: String) throws {
        if isNonEmpty {
            throw FederatedError.runDirectory(path: url.path, message: "already exists; use --resume to continue it, or choose another --out")
        }
        do {
            try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
            try Data(configText.utf8).write(to: configURL, options: .atomic)
        } catch {
            throw FederatedError.runDirectory(path: url.path, message: "cannot be created (\(error.localizedDescription))")
        }
    }

    /// The config text of a run to resume; errors when the directory holds no run.
    public func configTextForResume() throws -> String {
        guard FileManager.default.fileExists(atPath: configURL.path), FileManager.default.fileExists(atPath: journalURL.path) else {
            throw FederatedError.runDirectory(path: url.path, message: "cannot be resumed: no config.yaml and events.jsonl there")
        }
        guard let data = FileManager.default.contents(atPath: configURL.path), let text = String(data: data, encoding: .utf8) else {
            throw FederatedError.runDirectory(path: url.path, message: "config.yaml cannot be read")
        }
        return text
    }
}
