import CohortFiles
import Foundation

/// One hyperparameter's value.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    /// The value as a number, if it is one (integers and booleans included, so a
    /// trainable can read `momentum` whether the space wrote `0` or `0.9`).
    public var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .bool(b): return b ? 1 : 0
        case .string: return nil
        }
    }

    public var intValue: Int? {
        switch self {
        case let .int(i): return i
        case let .double(d) where d == d.rounded() && abs(d) < 9e18: return Int(d)
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var json: JSONValue {
        switch self {
        case let .int(i): return .int(i)
        case let .double(d): return .double(d)
        case let .string(s): return .string(s)
        case let .bool(b): return .bool(b)
        }
    }

    /// A scalar read from a config or a journal; `nil` for lists, mappings and null.
    public init?(json: JSONValue) {
        switch json {
        case let .int(i): self = .int(i)
        case let .double(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .bool(b): self = .bool(b)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .int(i): return String(i)
        case let .double(d): return Self.format(d)
        case let .string(s): return s
        case let .bool(b): return String(b)
        }
    }

    /// Four significant digits: enough to tell configurations apart in a table.
    static func format(_ d: Double) -> String {
        if d == 0 { return "0" }
        let a = abs(d)
        if a >= 1e-3 && a < 1e5 {
            var s = String(format: "%.4g", d)
            if s.contains("e") { s = String(format: "%g", d) }
            return s
        }
        return String(format: "%.3e", d)
    }
}

/// A configuration: one value per hyperparameter, in the search space's order.
public struct TrialConfig: Hashable, Sendable, CustomStringConvertible {
    public struct Entry: Hashable, Sendable {
        public var name: String
        public var value: ParameterValue
        public init(name: String, value: ParameterValue) {
            self.name = name
            self.value = value
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public init(_ pairs: KeyValuePairs<String, ParameterValue>) {
        entries = pairs.map { Entry(name: $0.key, value: $0.value) }
    }

    public subscript(name: String) -> ParameterValue? {
        entries.first { $0.name == name }?.value
    }

    /// A numeric hyperparameter, or `fallback` when the space does not define it.
    public func double(_ name: String, default fallback: Double) -> Double {
        self[name]?.doubleValue ?? fallback
    }

    public func int(_ name: String, default fallback: Int) -> Int {
        self[name]?.intValue ?? fallback
    }

    public func string(_ name: String, default fallback: String) -> String {
        self[name].map(\.description) ?? fallback
    }

    public var json: JSONValue { .object(entries.map { ($0.name, $0.value.json) }) }

    public var description: String {
        entries.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }
}
