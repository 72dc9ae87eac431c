import CohortFiles
import Foundation
import CohortTune

/// Reads the files of a run directory for a report, naming the file in every error.
enum RunFiles {
    /// A JSON Lines file (a journal or a log); a torn last line is dropped.
    static func lines(_ url: URL) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ReportError("cannot read \(url.path)") }
        do { return try JSONLines.parse(data).values } catch let bad as JSONLines.BadLine {
            throw ReportError("\(url.lastPathComponent) \(bad)")
        }
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
