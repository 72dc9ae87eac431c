import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Appends events to `events.jsonl`, one JSON object per line, each on disk before
/// the decision it records is acted on: a run killed at any moment leaves a journal
/// that says exactly what was decided.
public final class JournalWriter {
    public let url: URL
    private let handle: FileHandle
    /// When true (the default) every event is fsync'ed; when false it is only written
    /// (it survives the process being killed, not the machine crashing).
    public let syncEachEvent: Bool

    /// Opens `url` for appending, creating it if needed; `truncatingTo` first cuts a
    /// torn last line left by a killed run.
    public init(url: URL, syncEachEvent: Bool = true, truncatingTo length: UInt64? = nil) throws {
        self.url = url
        self.syncEachEvent = syncEachEvent
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw JournalError.io("cannot create \(url.path)")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            if let length { try handle.truncate(atOffset: length) }
            try handle.seekToEnd()
        } catch {
            throw JournalError.io("cannot open \(url.path) for writing: \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    public func append(_ event: JournalEvent) throws {
        do {
            try handle.write(contentsOf: Data(event.line.utf8))
            if syncEachEvent { try handle.synchronize() }
        } catch {
            throw JournalError.io("cannot write to \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Where a journal's events go: a file in a run, memory in tests and simulations.
public protocol JournalSink: AnyObject {
    func append(_ event: JournalEvent) throws
}

extension JournalWriter: JournalSink {}

/// Keeps events in memory.
public final class MemoryJournal: JournalSink {
    public private(set) var events: [JournalEvent] = []
    public init() {}
    public func append(_ event: JournalEvent) throws { events.append(event) }
}

/// A journal read back from disk.
public struct JournalContents {
    public var events: [JournalEvent]
    /// Bytes up to the end of the last complete line: where appending resumes.
    public var validLength: UInt64
    /// True when the last line was cut short (the run was killed mid-write) and dropped.
    public var droppedTornLine: Bool

    /// Reads `events.jsonl`. A last line without its newline is a torn write and is
    /// dropped; a bad line anywhere else is an error.
    public static func read(url: URL, space: SearchSpace) throws -> JournalContents {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw JournalError.io("cannot read \(url.path)")
        }
        return try parse(data, space: space)
    }

    public static func parse(_ data: Data, space: SearchSpace) throws -> JournalContents {
        let contents: JSONLines.Contents
        do { contents = try JSONLines.parse(data) } catch let bad as JSONLines.BadLine {
            throw JournalError.badLine(line: bad.line, bad.message)
        }
        var events: [JournalEvent] = []
        for (number, value) in contents.lines {
            do { events.append(try JournalEvent(json: value, space: space)) } catch {
                throw JournalError.badLine(line: number, "\(error)")
            }
        }
        return JournalContents(events: events, validLength: UInt64(contents.validLength), droppedTornLine: contents.droppedTornLine)
    }
}

/// Writes events to `events.jsonl` in large chunks, for simulated runs: nothing acts
/// on a simulated decision, so there is nothing to make durable before the next
/// one, and tens of thousands of events cost one write per megabyte.
public final class BufferedJournalWriter: JournalSink {
    public let url: URL
    private let handle: FileHandle
    private var buffer = Data()
    private let chunk = 1 << 20

    /// Creates (or empties) the journal at `url`.
    public init(url: URL) throws {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw JournalError.io("cannot create \(url.path)")
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw JournalError.io("cannot open \(url.path) for writing: \(error.localizedDescription)")
        }
    }

    deinit { try? flush(); try? handle.close() }

    public func append(_ event: JournalEvent) throws {
        buffer.append(contentsOf: event.line.utf8)
        if buffer.count >= chunk { try flush() }
    }

    /// Writes what is buffered.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw JournalError.io("cannot write to \(url.path): \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
