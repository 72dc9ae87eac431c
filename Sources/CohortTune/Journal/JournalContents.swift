import CohortFiles
import Foundation

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
