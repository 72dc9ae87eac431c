import Foundation
import Yams

/// Reads a YAML or JSON config file into a ``JSONValue`` tree that keeps the file's
/// key order (so parameters are listed, sampled and printed in the order written).
///
/// JSON is read by YAML's parser as well (JSON is a YAML flow document), so one code
/// path gives the same values and the same line/column messages for both formats.
public enum ConfigDocument {
    /// The YAML 1.1 scalar kinds a config may use; timestamps are left as strings.
    static let resolver = Resolver.default.removing(.timestamp).removing(.merge).removing(.value)

    /// Parses `text`; `source` names the file in error messages.
    public static func parse(_ text: String, source: String = "config") throws -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            throw ConfigError([ConfigIssue(path: source, message: "is not valid YAML or JSON: \(firstLine(of: error.description))")])
        }
        guard let node else { throw ConfigError([ConfigIssue(path: source, message: "is empty")]) }
        return try convert(node, path: source)
    }

    /// Reads and parses a file.
    public static func load(contentsOf url: URL) throws -> JSONValue {
        try parse(try text(contentsOf: url), source: url.lastPathComponent)
    }

    /// The text of a config file, or the one error saying why it cannot be read.
    public static func text(contentsOf url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError([ConfigIssue(path: url.path, message: "cannot be read (no such file, or no permission)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError([ConfigIssue(path: url.path, message: "is not UTF-8 text")])
        }
        return text
    }

    private static func firstLine(of s: String) -> String {
        String(s.split(separator: "\n", omittingEmptySubsequences: true).first ?? Substring(s))
    }

    private static func convert(_ node: Node, path: String) throws -> JSONValue {
        switch node {
        case let .mapping(mapping):
            var members: [(key: String, value: JSONValue)] = []
            for (k, v) in mapping {
                guard let key = k.scalar?.string else {
                    throw ConfigError([ConfigIssue(path: path, message: "has a key that is not a plain name")])
                }
                if members.contains(where: { $0.key == key }) {
                    throw ConfigError([ConfigIssue(path: "\(path).\(key)", message: "is given twice")])
                }
                members.append((key, try convert(v, path: "\(path).\(key)")))
            }
            return .object(members)
        case let .sequence(sequence):
            return .array(try sequence.enumerated().map { try convert($0.element, path: "\(path)[\($0.offset)]") })
        case let .scalar(scalar):
            // Quoted scalars are strings whatever they look like.
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { return .string(scalar.string) }
            switch resolver.resolveTag(of: node) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int:
                if let i = node.int { return .int(i) }
                // A whole number too large for Int stays a number, so range checks name it.
                if let d = Double(scalar.string.replacingOccurrences(of: "_", with: "")), d.isFinite { return .double(d) }
                return .string(scalar.string)
            case .float:
                if let d = node.float { return .double(d) }
                return .string(scalar.string)
            default: return .string(scalar.string)
            }
        }
    }
}
