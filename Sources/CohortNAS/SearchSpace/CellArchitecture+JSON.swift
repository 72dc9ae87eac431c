import CohortFiles
import CohortTune
import Foundation

// MARK: - JSON form

/// A cell as JSON: `nodes[j-1]` lists the operations into node j from nodes 0, 1, ...,
/// and `nasbench201` repeats the string form for people and other tools:
///
/// ```json
/// {"nasbench201": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
///  "nodes": [["nor_conv_3x3"], ["nor_conv_3x3", "avg_pool_3x3"], ["skip_connect", "nor_conv_3x3", "skip_connect"]]}
/// ```
///
/// Reading accepts either member alone; when both are given they must agree.
extension CellArchitecture {
    public var json: JSONValue {
        .object([
            ("nasbench201", .string(nasBench201String)),
            ("nodes", .array((1..<Self.nodeCount).map { j in .array((0..<j).map { .string(operation(from: $0, to: j).name) }) })),
        ])
    }

    /// Reads the JSON form (see the type's documentation).
    public init(json: JSONValue, requireConnected: Bool = true) throws {
        guard json.objectMembers != nil else {
            throw NASInputError("an architecture in JSON must be a mapping with 'nodes' and/or 'nasbench201', got \(json.kindName)")
        }
        for (key, _) in json.objectMembers! where key != "nodes" && key != "nasbench201" {
            throw NASInputError("architecture JSON: unknown member '\(key)' (members: nodes, nasbench201)")
        }
        var fromString: CellArchitecture?
        if let s = json["nasbench201"] {
            guard let text = s.stringValue else { throw NASInputError("architecture JSON: 'nasbench201' must be a string, got \(s.kindName)") }
            fromString = try CellArchitecture(parsing: text, requireConnected: false)
        }
        var fromNodes: CellArchitecture?
        if let n = json["nodes"] {
            guard let groups = n.arrayValue, groups.count == Self.nodeCount - 1 else {
                throw NASInputError("architecture JSON: 'nodes' must be a list of \(Self.nodeCount - 1) lists (the inputs of nodes 1, 2, 3), got \(n)")
            }
            var ops: [CellOperation] = Array(repeating: .none, count: Self.edgeCount)
            for (g, group) in groups.enumerated() {
                let j = g + 1
                guard let items = group.arrayValue, items.count == j else {
                    throw NASInputError("architecture JSON: node \(j) must list \(j) operation\(j == 1 ? "" : "s") (one per earlier node), got \(group)")
                }
                for (i, item) in items.enumerated() {
                    guard let name = item.stringValue else {
                        throw NASInputError("architecture JSON: the operation from node \(i) into node \(j) must be a name, got \(item.kindName)")
                    }
                    ops[Self.edge(from: i, to: j)] = try CellOperation(named: name)
                }
            }
            fromNodes = CellArchitecture(ops)
        }
        guard let cell = fromNodes ?? fromString else {
            throw NASInputError("architecture JSON needs 'nodes' or 'nasbench201'")
        }
        if let a = fromNodes, let b = fromString, a != b {
            throw NASInputError("architecture JSON: 'nodes' (\(a)) and 'nasbench201' (\(b)) describe different cells")
        }
        self = cell
        if requireConnected { try self.requireConnected() }
    }

    /// Reads an architecture given on a command line or in a config: the NAS-Bench-201
    /// string, inline JSON (`{...}`), or the path of a JSON file (such as a run's
    /// `chosen.json`, whose `architecture` member is read).
    public init(argument: String) throws {
        let text = argument.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("|") {
            try self.init(parsing: text)
            return
        }
        if text.hasPrefix("{") {
            let value: JSONValue
            do { value = try JSONValue.parse(text) } catch { throw NASInputError("architecture JSON does not parse: \(error)") }
            try self.init(json: value)
            return
        }
        if FileManager.default.fileExists(atPath: text) {
            guard let data = FileManager.default.contents(atPath: text) else { throw NASInputError("architecture file \(text) cannot be read") }
            let value: JSONValue
            do { value = try JSONValue.parse(String(decoding: data, as: UTF8.self)) } catch {
                throw NASInputError("architecture file \(text) is not JSON: \(error)")
            }
            try self.init(json: value["architecture"] ?? value)
            return
        }
        if text.contains("~") || text.contains("+") {
            try self.init(parsing: text)   // reports what is wrong with the string
            return
        }
        throw NASInputError("architecture '\(argument)' is neither a NAS-Bench-201 string (|op~0|+|...|), JSON, nor an existing file")
    }
}
