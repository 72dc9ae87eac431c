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
        // The parser recurses per level: refuse what would exhaust the stack first.
        if let problem = nestingProblem(text) { throw ConfigError([ConfigIssue(path: source, message: problem)]) }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            throw ConfigError([ConfigIssue(path: source, message: "is not valid YAML or JSON: \(firstLine(of: error.description))")])
        }
        guard let node else { throw ConfigError([ConfigIssue(path: source, message: "is empty")]) }
        var budget = maxValues
        return try convert(node, path: source, depth: 0, budget: &budget)
    }

    /// Deeper than any config needs, shallow enough for the parser's recursion.
    public static let maxDepth = 64
    /// Values in one document once aliases are expanded (an alias bomb grows as 9^k).
    public static let maxValues = 100_000

    /// Why `text` nests too deeply to parse (flow brackets or indentation), or nil.
    static func nestingProblem(_ text: String) -> String? {
        var depth = 0, deepest = 0
        var quote: UInt8? = nil
        var comment = false, lineStart = true, indent = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "\n") { comment = false; lineStart = true; indent = 0; continue }
            if lineStart {
                if c == UInt8(ascii: " ") { indent += 1; if indent > 4 * maxDepth { return "is nested too deeply (a line indented more than \(4 * maxDepth) spaces)" }; continue }
                lineStart = false
            }
            if comment { continue }
            if let q = quote { if c == q { quote = nil }; continue }
            switch c {
            case UInt8(ascii: "#"): comment = true
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = c
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = Swift.max(deepest, depth)
                if deepest > maxDepth { return "is nested too deeply (more than \(maxDepth) levels of brackets)" }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = Swift.max(0, depth - 1)
            default: break
            }
        }
        return nil
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

    private static func convert(_ node: Node, path: String, depth: Int, budget: inout Int) throws -> JSONValue {
        budget -= 1
        if budget < 0 { throw ConfigError([ConfigIssue(path: path, message: "expands to more than \(maxValues) values (aliases repeated within aliases?)")]) }
        if depth > maxDepth { throw ConfigError([ConfigIssue(path: path, message: "is nested more than \(maxDepth) levels deep")]) }
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
                members.append((key, try convert(v, path: "\(path).\(key)", depth: depth + 1, budget: &budget)))
            }
            return .object(members)
        case let .sequence(sequence):
            var items: [JSONValue] = []
            for (i, element) in sequence.enumerated() {
                items.append(try convert(element, path: "\(path)[\(i)]", depth: depth + 1, budget: &budget))
            }
            return .array(items)
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
