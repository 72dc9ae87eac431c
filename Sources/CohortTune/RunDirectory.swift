import Foundation

/// The files of one run: `config.yaml` (a copy of the config), `events.jsonl` (the
/// journal), `checkpoints/trial-000042/r-9.ckpt`, and `best.json` at the end.
/// The directory must be on a filesystem every rank sees.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url.standardizedFileURL }

    public var configURL: URL { url.appendingPathComponent("config.yaml") }
    public var journalURL: URL { url.appendingPathComponent("events.jsonl") }
    public var bestURL: URL { url.appendingPathComponent("best.json") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }

    /// Where trial `trial`'s checkpoint after training to `resource` lives.
    public func checkpoint(trial: Int, resource: Double) -> URL {
        let dir = checkpointsURL.appendingPathComponent(String(format: "trial-%06d", trial))
        return dir.appendingPathComponent("r-\(JSONValue.number(resource)).ckpt")
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    /// True when the directory exists and holds anything.
    public var isNonEmpty: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).isEmpty == false
    }

    /// Creates a new run directory with the config copy. Refuses a directory that
    /// already holds something, so a finished run is never overwritten.
    public func create(configText: String) throws {
        if isNonEmpty { throw TuneError.runDirectoryExists(url.path) }
        do {
            try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
            try Data(configText.utf8).write(to: configURL, options: .atomic)
        } catch {
            throw TuneError.io("cannot create the run directory \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Errors a tuning run reports to its user, one readable line each.
public enum TuneError: Error, Equatable, CustomStringConvertible {
    case runDirectoryExists(String)
    case nothingToResume(String)
    case ranks(String)
    case io(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case let .runDirectoryExists(p): return "run directory \(p) already exists; use --resume to continue it, or choose another --out"
        case let .nothingToResume(p): return "cannot resume \(p): \(p.hasSuffix("/") ? "" : "")no config.yaml and events.jsonl there"
        case let .ranks(s): return s
        case let .io(s): return s
        case let .protocolViolation(s): return "job farm protocol: \(s)"
        }
    }
}
