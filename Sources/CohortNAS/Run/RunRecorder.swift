import CohortFiles
import CohortTune
import Foundation

/// Writes a run directory's files (rank 0 only): JSON documents written atomically,
/// and JSON Lines logs appended and flushed line by line so that a killed run keeps
/// everything it recorded.
final class RunRecorder {
    let run: RunDirectory
    private var logs: [String: JournalWriter] = [:]

    init(run: RunDirectory) {
        self.run = run
    }

    var directory: URL { run.url }

    func url(_ name: String) -> URL { run.file(name) }

    /// Appends one line to the log `name` (created on first use).
    func append(_ line: JSONValue, to name: String) throws {
        let log = try logs[name] ?? JournalWriter(url: url(name), durability: .written, replacing: true)
        logs[name] = log
        try log.append(line)
    }

    /// Writes `document` (indented) to `name`, replacing it atomically.
    func write(_ document: JSONValue, to name: String) throws {
        try AtomicFile.write(document, to: url(name))
    }
}
