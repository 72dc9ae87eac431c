import Foundation
import CohortTune

/// Reads a JSON Lines file (a journal or a log) as JSON values, the way every
/// workload writes them: one object per line, flushed line by line, so a last line
/// without its newline is a write a kill cut short and is dropped.
enum JSONLines {
    static func read(_ url: URL) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ReportError("cannot read \(url.path)") }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        var out: [JSONValue] = []
        for (n, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            do { out.append(try JSONValue.parse(String(line))) } catch {
                throw ReportError("\(url.lastPathComponent) line \(n + 1) is not JSON (\(error))")
            }
        }
        return out
    }

    /// A JSON document (`summary.json`, `candidates.json`), or `nil` when absent.
    static func document(_ url: URL) throws -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try JSONValue.parse(String(decoding: data, as: UTF8.self)) } catch {
            throw ReportError("\(url.lastPathComponent) is not JSON (\(error))")
        }
    }
}

extension JSONValue {
    /// A number that may be written as null (no value yet).
    var number: Double? { isNull ? nil : doubleValue }
}

extension HTMLPage {
    /// Several small figures side by side, under one caption.
    public mutating func figureRow(_ svgs: [String], caption: String) {
        appendRaw("<figure><div class=\"figure-row\">\(svgs.joined())</div><figcaption>\(escapeXML(caption))</figcaption></figure>")
    }
}
