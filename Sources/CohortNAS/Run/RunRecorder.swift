import CohortFiles
import CohortTune
import Foundation

/// Writes a run directory's files (rank 0 only): JSON documents written atomically,
/// and JSON Lines logs appended and flushed line by line so that a killed run keeps
/// everything it recorded.
final class RunRecorder {
    let directory: URL
    private var logs: [String: FileHandle] = [:]

    init(directory: URL) {
        self.directory = directory
    }

    deinit { for h in logs.values { try? h.close() } }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Appends one line to the log `name` (created on first use).
    func append(_ line: JSONValue, to name: String) throws {
        let handle: FileHandle
        if let h = logs[name] {
            handle = h
        } else {
            let u = url(name)
            guard FileManager.default.createFile(atPath: u.path, contents: nil) else {
                throw NASInputError("cannot create \(u.path)")
            }
            handle = try FileHandle(forWritingTo: u)
            logs[name] = handle
        }
        try handle.write(contentsOf: Data((line.description + "\n").utf8))
    }

    /// Writes `document` (indented) to `name`, replacing it atomically.
    func write(_ document: JSONValue, to name: String) throws {
        try Data((document.pretty() + "\n").utf8).write(to: url(name), options: .atomic)
    }

    func write(text: String, to name: String) throws {
        try Data(text.utf8).write(to: url(name), options: .atomic)
    }
}
