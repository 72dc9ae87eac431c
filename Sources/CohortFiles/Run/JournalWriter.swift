import Foundation

/// Appends lines to a JSON Lines journal (`events.jsonl` and every other log a run
/// keeps). The one writer under every workload's journal: each line is written whole,
/// so a kill leaves at most a torn last line, which ``JSONLines`` drops on reading and
/// `truncatingTo` cuts before appending resumes.
public final class JournalWriter {
    /// How far each line goes before `append` returns.
    public enum Durability: Sendable {
        /// fsync'ed: survives the machine crashing. For decisions acted on next.
        case synced
        /// written to the file at once and fsync'ed by `commit()`: the caller commits
        /// before it acts on what it wrote, so one fsync covers every event since the
        /// last action (group commit). Survives a kill at once, a crash once committed.
        case grouped
        /// written to the file: survives the process being killed, not a crash.
        case written
        /// kept in memory and written a megabyte at a time, and by `flush()`: for
        /// simulated runs, where nothing acts on a decision before the next one.
        case buffered
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write the journal \(path): \(reason)" }
    }

    public let url: URL
    public let durability: Durability
    private let handle: FileHandle
    private var buffer = Data()
    private var uncommitted = false
    private static let chunk = 1 << 20

    /// Opens `url` for appending, creating it if needed; `truncatingTo` first cuts a
    /// torn last line left by a killed run; `replacing` starts the file empty.
    public init(url: URL, durability: Durability = .synced, truncatingTo length: UInt64? = nil, replacing: Bool = false) throws {
        self.url = url
        self.durability = durability
        if replacing || !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw WriteError(path: url.path, reason: "cannot create the file")
            }
            AtomicFile.syncDirectory(url.deletingLastPathComponent())
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            if let length { try handle.truncate(atOffset: length) }
            try handle.seekToEnd()
        } catch {
            throw WriteError(path: url.path, reason: "cannot open it for writing (\(error.localizedDescription))")
        }
    }

    deinit {
        try? flush()
        try? handle.close()
    }

    /// Appends one line; `line` must not contain a newline (one is added).
    public func append(line: String) throws {
        var bytes = Data(line.utf8)
        bytes.append(0x0A)
        try append(bytes: bytes)
    }

    /// Appends one JSON value as a compact line.
    public func append(_ value: JSONValue) throws { try append(line: value.description) }

    /// Appends bytes that already end in a newline.
    public func append(bytes: Data) throws {
        if durability == .buffered {
            buffer.append(bytes)
            if buffer.count >= Self.chunk { try flush() }
            return
        }
        do {
            try handle.write(contentsOf: bytes)
            if durability == .synced { try handle.synchronize() }
            if durability == .grouped { uncommitted = true }
        } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Makes every line written so far durable (`.grouped`: one fsync for all of them;
    /// the other durabilities: nothing to do).
    public func commit() throws {
        guard uncommitted else { return }
        do { try handle.synchronize() } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
        uncommitted = false
    }

    /// Writes what a buffered journal holds.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
