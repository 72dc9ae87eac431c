import Foundation

/// JSON Lines as every Cohort journal and log is written: one value per line, each line
/// written whole and flushed, so text after the last newline is a write that a kill cut
/// short. One reader for all of them keeps that rule in one place.
public enum JSONLines {
    /// A line that is not JSON: its number (from 1) and the parser's complaint.
    public struct BadLine: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line) is not JSON (\(message))" }
    }

    /// The complete lines of a file, parsed.
    public struct Contents {
        /// Every non-blank complete line with its number (from 1).
        public var lines: [(number: Int, value: JSONValue)]
        /// Bytes up to the end of the last complete line: where appending resumes.
        public var validLength: Int
        /// True when text followed the last newline (a torn write) and was dropped.
        public var droppedTornLine: Bool

        public var values: [JSONValue] { lines.map(\.value) }
    }

    /// Parses `data`; throws `BadLine` for the first complete line that is not JSON.
    public static func parse(_ data: Data) throws -> Contents {
        var lines: [(number: Int, value: JSONValue)] = []
        var lineStart = 0, number = 0
        let bytes = [UInt8](data)
        for i in bytes.indices where bytes[i] == 0x0A {
            number += 1
            let text = String(decoding: bytes[lineStart ..< i], as: UTF8.self)
            lineStart = i + 1
            if text.allSatisfy(\.isWhitespace) { continue }
            do { lines.append((number, try JSONValue.parse(text))) } catch {
                throw BadLine(line: number, message: "\(error)")
            }
        }
        return Contents(lines: lines, validLength: lineStart, droppedTornLine: lineStart < bytes.count)
    }
}
