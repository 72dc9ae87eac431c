import CohortFiles
import Foundation

/// A capacity in bytes as a config writes it: a whole number, or a number with a unit
/// (`512MB`, `1.5 GiB`, `800k`); decimal units are powers of 1000, binary ones of 1024.
public enum ByteSize {
    static let units: [(suffix: String, factor: Double)] = [
        ("kib", 1024), ("mib", 1024 * 1024), ("gib", 1024 * 1024 * 1024), ("tib", 1024 * 1024 * 1024 * 1024),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12), ("k", 1e3), ("m", 1e6), ("g", 1e9), ("t", 1e12), ("b", 1),
    ]

    /// The largest capacity accepted: 1 PB, far beyond any cache and safe to add up.
    static let limit = 1e15

    /// The bytes `value` names, or why it names none.
    public static func parse(_ value: JSONValue) -> Result<Int, ConfigErrorMessage> {
        if let i = value.intValue, value.stringValue == nil {
            guard i >= 0, Double(i) <= limit else { return .failure(.init("must be between 0 and 1PB, got \(i)")) }
            return .success(i)
        }
        guard let text = value.stringValue else { return .failure(.init("must be a size such as 512MB or 2GiB, got \(value.kindName)")) }
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        var number = t, factor = 1.0
        for (suffix, f) in units where t.hasSuffix(suffix) {
            number = String(t.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            factor = f
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let x = Double(number), x.isFinite else {
            return .failure(.init("must be a size such as 512MB or 2GiB, got '\(text)'"))
        }
        let bytes = (x * factor).rounded(.down)
        guard bytes <= limit else { return .failure(.init("must be at most 1PB, got '\(text)'")) }
        return .success(Int(bytes))
    }

    /// `bytes` for people: 1.5 GB, 340 MB, 12 kB.
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.2f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.1f MB", b / 1e6) }
        if b >= 1e3 { return String(format: "%.1f kB", b / 1e3) }
        return "\(bytes) B"
    }
}

/// A config problem's message, as a value (``ByteSize/parse(_:)`` returns it).
public struct ConfigErrorMessage: Error, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
