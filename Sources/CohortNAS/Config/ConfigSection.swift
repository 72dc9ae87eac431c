import CohortTune

/// Typed reading of one mapping of a NAS config, with errors that name the key path.
/// Readers record the first problem and fall back to the default, so the config
/// reports one clear message; `finish()` also rejects keys nobody asked for (a typo
/// never silently falls back to a default).
struct ConfigSection {
    let members: [(key: String, value: JSONValue)]
    let path: String
    private(set) var problems: [String] = []
    private var read: Set<String> = []

    init(_ value: JSONValue?, path: String, problems: [String] = []) {
        self.path = path
        self.problems = problems
        if let value, let m = value.objectMembers {
            members = m
        } else {
            members = []
            if let value, !value.isNull { self.problems.append("\(path) must be a mapping, got \(value.kindName)") }
        }
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> JSONValue? {
        guard let v = members.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    mutating func problem(_ key: String, _ message: String) { problems.append("\(name(key)) \(message)") }

    mutating func int(_ key: String, default fallback: Int, min: Int? = nil) -> Int {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let i = v.intValue else { problem(key, "must be a whole number, got \(v)"); return fallback }
        if let min, i < min { problem(key, "must be at least \(min), got \(i)"); return fallback }
        return i
    }

    mutating func optionalInt(_ key: String, min: Int) -> Int? {
        read.insert(key)
        guard value(key) != nil else { return nil }
        return int(key, default: min, min: min)
    }

    mutating func double(_ key: String, default fallback: Double, above: Double? = nil, atLeast: Double? = nil, below: Double? = nil) -> Double {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let d = v.doubleValue, d.isFinite else { problem(key, "must be a number, got \(v)"); return fallback }
        if let above, d <= above { problem(key, "must be greater than \(above), got \(d)"); return fallback }
        if let atLeast, d < atLeast { problem(key, "must be at least \(atLeast), got \(d)"); return fallback }
        if let below, d >= below { problem(key, "must be less than \(below), got \(d)"); return fallback }
        return d
    }

    mutating func bool(_ key: String, default fallback: Bool) -> Bool {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let b = v.boolValue else { problem(key, "must be true or false, got \(v)"); return fallback }
        return b
    }

    mutating func string(_ key: String, default fallback: String, allowed: [String]? = nil) -> String {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let s = v.stringValue else { problem(key, "must be a string, got \(v.kindName)"); return fallback }
        if let allowed, !allowed.contains(s) {
            problem(key, "must be one of \(allowed.joined(separator: ", ")), got '\(s)'")
            return fallback
        }
        return s
    }

    mutating func optionalString(_ key: String) -> String? {
        read.insert(key)
        guard value(key) != nil else { return nil }
        return string(key, default: "")
    }

    mutating func ints(_ key: String, default fallback: [Int]) -> [Int] {
        read.insert(key)
        guard let v = value(key) else { return fallback }
        guard let items = v.arrayValue, let ints = items.map(\.intValue) as? [Int] else {
            problem(key, "must be a list of whole numbers, got \(v)")
            return fallback
        }
        return ints
    }

    /// A nested mapping; its problems join this section's when it is finished.
    mutating func section(_ key: String) -> ConfigSection {
        read.insert(key)
        return ConfigSection(value(key), path: name(key))
    }

    /// Takes over the problems of a finished nested section.
    mutating func absorb(_ child: ConfigSection) { problems += child.problems }

    /// Records keys no reader asked for; call after reading everything.
    mutating func finish() {
        let known = read.sorted()
        for (k, _) in members where !read.contains(k) {
            problems.append("\(name(k)) is not a setting (settings here: \(known.joined(separator: ", ")))")
        }
    }
}
