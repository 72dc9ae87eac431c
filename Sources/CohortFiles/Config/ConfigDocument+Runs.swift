import Foundation

/// What every workload's config reader shares: reading the file, its top mapping, the
/// run's name, and command-line overrides written back into the text the run keeps.
extension ConfigDocument {
    /// Reads the config file at `path` and hands its text to `parse` with the file's name
    /// (for messages) and, as the run's default name, the file name without extension.
    public static func load<Config>(path: String, parse: (_ text: String, _ source: String, _ defaultName: String) throws -> Config) throws -> Config {
        let url = URL(fileURLWithPath: path)
        return try parse(try text(contentsOf: url), url.lastPathComponent, url.deletingPathExtension().lastPathComponent)
    }

    /// `text` with each change set at its key path (added where absent), written back as a
    /// document: a flag such as `--seed` becomes part of the config the run directory keeps,
    /// so `--resume` needs no flag.
    public static func overriding(_ text: String, _ changes: [(path: [String], value: JSONValue)]) throws -> String {
        guard !changes.isEmpty else { return text }
        var document = try parse(text)
        func set(_ value: JSONValue, at path: ArraySlice<String>, in node: JSONValue) -> JSONValue {
            guard let key = path.first else { return value }
            var members = node.objectMembers ?? []
            if let i = members.firstIndex(where: { $0.key == key }) {
                members[i].value = set(value, at: path.dropFirst(), in: members[i].value)
            } else {
                members.append((key, set(value, at: path.dropFirst(), in: .object([]))))
            }
            return .object(members)
        }
        for change in changes { document = set(change.value, at: change.path[...], in: document) }
        return document.description + "\n"
    }

    /// The change a `--seed` flag makes (none without one); a seed above a config
    /// integer's range is refused here rather than trapping later.
    public static func seedOverride(_ seed: UInt64?) throws -> [(path: [String], value: JSONValue)] {
        guard let seed else { return [] }
        guard let value = Int(exactly: seed) else {
            throw ConfigError([ConfigIssue(path: "--seed", message: "must be at most \(Int.max), got \(seed)")])
        }
        return [(["seed"], .int(value))]
    }
}

extension ConfigSection {
    /// The top mapping of config `text`; throws when the text is no mapping.
    public static func top(of text: String, source: String, issues: ConfigIssues) throws -> ConfigSection {
        guard let top = ConfigSection(try ConfigDocument.parse(text, source: source), path: "", issues: issues, required: true) else {
            throw ConfigError(issues.list)
        }
        return top
    }

    /// The run's `name`, which names its directory under runs/: non-empty, no '/', not "." or "..".
    public func runName(default fallback: String) -> String {
        let name = string("name", default: fallback)
        if name.isEmpty || name.contains("/") || name == "." || name == ".." { issue("name", "must be a non-empty name without '/'") }
        return name
    }
}
