import CohortFiles
import Foundation
import CohortTune

/// What a renderer sees of a path when deciding whether it is its kind of run.
public struct ReportInput: Sendable {
    public let url: URL
    public let isDirectory: Bool

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var dir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &dir) else {
            throw ReportError("\(path) does not exist")
        }
        self.url = url
        self.isDirectory = dir.boolValue
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    public func has(_ name: String) -> Bool { isDirectory && FileManager.default.fileExists(atPath: file(name).path) }
    /// The path as a run directory (its config, journal and workload files).
    public var run: RunDirectory { RunDirectory(url) }
    public func has(_ file: URL) -> Bool { isDirectory && FileManager.default.fileExists(atPath: file.path) }

    /// The first line of `events.jsonl` as JSON: every workload's journal opens
    /// with an event that says what ran, which is how a kind is recognised.
    public var firstEvent: JSONValue? {
        guard has(run.journalURL), let handle = try? FileHandle(forReadingFrom: run.journalURL) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64 * 1024)) ?? Data()
        guard let line = String(decoding: head, as: UTF8.self).split(separator: "\n").first else { return nil }
        return try? JSONValue.parse(String(line))
    }

    /// CSV files directly inside a directory (or the file itself).
    public var csvFiles: [URL] {
        if !isDirectory { return url.pathExtension.lowercased() == "csv" ? [url] : [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.lowercased().hasSuffix(".csv") }.sorted().map(file)
    }
}

/// Renders one kind of run to an HTML page.
///
/// This is the extension point for workloads: a run directory gets its report from
/// the renderer that recognises what it holds (a journal's first event, the files
/// it writes) and draws its plots. New kinds join ``ReportRegistry/standard``, or a
/// caller's registry through ``ReportRegistry/register(_:)``.
public protocol ReportRenderer: Sendable {
    /// A short name: "tune", "scaling", "federated", "nas".
    var kind: String { get }
    /// What the renderer accepts, for the error message when nothing does.
    var accepts: String { get }
    func canRender(_ input: ReportInput) -> Bool
    func render(_ input: ReportInput) throws -> HTMLPage
}

/// The renderers `cohort report` knows, tried in order.
public struct ReportRegistry: Sendable {
    public private(set) var renderers: [any ReportRenderer]

    public init(_ renderers: [any ReportRenderer]) { self.renderers = renderers }

    /// Tuning runs (real or simulated), federated runs, NAS runs, XD and ORCA comparisons and scaling CSVs.
    public static var standard: ReportRegistry {
        ReportRegistry([TuneReport(), FederatedReport(), NASReport(), XDReport(), MetaReport(), ORCAReport(), ScalingReport()])
    }

    /// Adds a renderer, tried before the ones already known.
    public mutating func register(_ renderer: any ReportRenderer) { renderers.insert(renderer, at: 0) }

    /// The renderer for `input`, or a readable error listing what is understood.
    public func renderer(for input: ReportInput) throws -> any ReportRenderer {
        if let r = renderers.first(where: { $0.canRender(input) }) { return r }
        var found = "it is a file"
        if input.isDirectory {
            if let e = input.firstEvent {
                found = "its events.jsonl opens with \(e.description.prefix(160))"
            } else {
                found = input.has(input.run.journalURL) ? "its events.jsonl is empty or unreadable" : "it has no events.jsonl and no scaling CSV"
            }
        }
        throw ReportError("cannot tell what kind of run \(input.url.path) is (\(found)); cohort report reads "
                          + renderers.map { "\($0.kind): \($0.accepts)" }.joined(separator: "; "))
    }

    /// Renders `path` and returns the kind and the HTML.
    public func render(path: String) throws -> (kind: String, html: String) {
        let input = try ReportInput(path: path)
        let r = try renderer(for: input)
        return (r.kind, try r.render(input).html)
    }

    /// Where a report goes by default: `report.html` inside a run directory,
    /// `NAME.html` next to a CSV file.
    public static func defaultOutput(for path: String) -> URL {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var dir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &dir), dir.boolValue {
            return url.appendingPathComponent("report.html")
        }
        return url.deletingPathExtension().appendingPathExtension("html")
    }
}

/// A report that cannot be made, in one readable line.
public struct ReportError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
