import Foundation

/// One mapping of a config, read with typed accessors. Every accessor records a
/// readable problem (missing, mistyped, out of range) in the document's shared
/// ``ConfigIssues`` and falls back to its default, so reading goes on and the user
/// sees every problem at once. `finish()` then rejects each key no reader asked for,
/// naming the nearest valid key: a typo never silently falls back to a default.
///
/// The dialect every command shares: snake_case keys, `type:` for kinds, `null` (or
/// an empty value) means "not given".
public struct ConfigSection {
    public let path: String
    public let members: [(key: String, value: JSONValue)]
    public let issues: ConfigIssues
    private let readKeys = KeyRecord()

    private final class KeyRecord { var keys: Set<String> = []; var finished = false }

    /// The mapping at `value`, or `nil` (with an issue when it is required or mistyped).
    public init?(_ value: JSONValue?, path: String, issues: ConfigIssues, required: Bool = false, hint: String = "") {
        self.path = path
        self.issues = issues
        guard let value, !value.isNull else {
            if required { issues.add(path.isEmpty ? "config" : path, "is missing" + (hint.isEmpty ? "" : " (\(hint))")) }
            return nil
        }
        guard let members = value.objectMembers else {
            issues.add(path.isEmpty ? "config" : path, "must be a mapping, got \(value.kindName)")
            return nil
        }
        self.members = members
    }

    /// A section with no keys: every accessor returns its default.
    public init(emptyAt path: String, issues: ConfigIssues) {
        self.path = path
        self.issues = issues
        self.members = []
    }

    /// The dotted path of `key` in this section.
    public func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key` (nil when absent or null); marks the key as read.
    public func value(_ key: String) -> JSONValue? {
        readKeys.keys.insert(key)
        guard let v = members.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    public subscript(key: String) -> JSONValue? { value(key) }

    /// True when `key` is given; marks it as read.
    public func has(_ key: String) -> Bool { value(key) != nil }

    /// Marks keys as settings of this section without reading them (read elsewhere).
    public func accept(_ keys: [String]) { readKeys.keys.formUnion(keys) }

    /// Records a problem with `key`.
    public func issue(_ key: String, _ message: String) { issues.add(at(key), message) }

    /// Records a problem with the section as a whole.
    public func issue(_ message: String) { issues.add(path.isEmpty ? "config" : path, message) }

    // MARK: Numbers

    /// A finite number, within the bounds given.
    public func double(_ key: String, _ fallback: Double? = nil, min: Double? = nil, max: Double? = nil,
                       above: Double? = nil, below: Double? = nil) -> Double? {
        guard let v = value(key) else { return fallback }
        guard let d = v.doubleValue, d.isFinite else { issue(key, "must be a number, got \(v.kindName)"); return fallback }
        if let min, d < min { issue(key, "must be at least \(JSONValue.number(min)), got \(JSONValue.number(d))"); return fallback }
        if let max, d > max { issue(key, "must be at most \(JSONValue.number(max)), got \(JSONValue.number(d))"); return fallback }
        if let above, d <= above { issue(key, "must be greater than \(JSONValue.number(above)), got \(JSONValue.number(d))"); return fallback }
        if let below, d >= below { issue(key, "must be less than \(JSONValue.number(below)), got \(JSONValue.number(d))"); return fallback }
        return d
    }

    public func double(_ key: String, default fallback: Double, min: Double? = nil, max: Double? = nil,
                       above: Double? = nil, below: Double? = nil) -> Double {
        double(key, Optional(fallback), min: min, max: max, above: above, below: below) ?? fallback
    }

    /// A whole number, within the bounds given.
    public func int(_ key: String, _ fallback: Int? = nil, min: Int? = nil, max: Int? = nil) -> Int? {
        guard let v = value(key) else { return fallback }
        guard let i = v.intValue else {
            issue(key, "must be a whole number, got \(v.kindName == "a number" ? "\(v)" : v.kindName)")
            return fallback
        }
        if let min, i < min { issue(key, "must be at least \(min), got \(i)"); return fallback }
        if let max, i > max { issue(key, "must be at most \(max), got \(i)"); return fallback }
        return i
    }

    public func int(_ key: String, default fallback: Int, min: Int? = nil, max: Int? = nil) -> Int {
        int(key, Optional(fallback), min: min, max: max) ?? fallback
    }

    /// A list of finite numbers.
    public func numbers(_ key: String) -> [Double]? {
        guard let v = value(key) else { return nil }
        guard let list = v.arrayValue else { issue(key, "must be a list of numbers, got \(v.kindName)"); return nil }
        var out: [Double] = []
        for (i, item) in list.enumerated() {
            guard let d = item.doubleValue, d.isFinite else {
                issues.add("\(at(key))[\(i)]", "must be a number, got \(item.kindName)")
                return nil
            }
            out.append(d)
        }
        return out
    }

    /// A list of whole numbers, each within the bounds given.
    public func integers(_ key: String, min: Int? = nil, max: Int? = nil) -> [Int]? {
        guard let v = value(key) else { return nil }
        guard let list = v.arrayValue else { issue(key, "must be a list of whole numbers, got \(v.kindName)"); return nil }
        var out: [Int] = []
        for (i, item) in list.enumerated() {
            guard let n = item.intValue else {
                issues.add("\(at(key))[\(i)]", "must be a whole number, got \(item.kindName == "a number" ? "\(item)" : item.kindName)")
                return nil
            }
            if let min, n < min { issues.add("\(at(key))[\(i)]", "must be at least \(min), got \(n)"); return nil }
            if let max, n > max { issues.add("\(at(key))[\(i)]", "must be at most \(max), got \(n)"); return nil }
            out.append(n)
        }
        return out
    }

    /// A list of names.
    public func strings(_ key: String) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let list = v.arrayValue else { issue(key, "must be a list of names, got \(v.kindName)"); return nil }
        var out: [String] = []
        for (i, item) in list.enumerated() {
            guard let s = item.stringValue else { issues.add("\(at(key))[\(i)]", "must be a name, got \(item.kindName)"); return nil }
            out.append(s)
        }
        return out
    }

    // MARK: Names and switches

    public func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let v = value(key) else { return fallback }
        guard let b = v.boolValue else { issue(key, "must be true or false, got \(v.kindName)"); return fallback }
        return b
    }

    /// A name; with `allowed`, one of those names.
    public func string(_ key: String, _ fallback: String? = nil, allowed: [String]? = nil) -> String? {
        guard let v = value(key) else { return fallback }
        guard let s = v.stringValue else { issue(key, "must be a name, got \(v.kindName)"); return fallback }
        if let allowed, !allowed.contains(s) {
            issue(key, "unknown value '\(s)' (expected one of \(allowed.joined(separator: ", ")))")
            return fallback
        }
        return s
    }

    public func string(_ key: String, default fallback: String, allowed: [String]? = nil) -> String {
        string(key, Optional(fallback), allowed: allowed) ?? fallback
    }

    /// A name that must be given.
    public func requiredString(_ key: String, hint: String = "") -> String? {
        guard has(key) else { issue(key, "is missing" + (hint.isEmpty ? "" : " (\(hint))")); return nil }
        return string(key)
    }

    /// One of an enumeration's names.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T) -> T where T.RawValue == String {
        string(key, allowed: T.allCases.map(\.rawValue)).flatMap(T.init(rawValue:)) ?? fallback
    }

    // MARK: Nesting and finishing

    /// The nested mapping at `key`, or nil (with an issue when required or mistyped).
    public func section(_ key: String, required: Bool = false, hint: String = "") -> ConfigSection? {
        ConfigSection(value(key), path: at(key), issues: issues, required: required, hint: hint)
    }

    /// Runs a validation that throws ``ConfigError`` (or any error), keeping its
    /// problems with the others instead of stopping.
    public func check(_ body: () throws -> Void) {
        do { try body() } catch let error as ConfigError { issues.add(error) } catch {
            if let field = (error as? ConfigFieldError)?.configIssue { issues.add(field) } else { issue("\(error)") }
        }
    }

    /// Records every key no accessor read (and not in `also`) as unknown, naming the
    /// nearest valid key. Only the first call reports.
    public func finish(also extra: [String] = []) {
        guard !readKeys.finished else { return }
        readKeys.finished = true
        let known = readKeys.keys.union(extra)
        for (key, _) in members where !known.contains(key) {
            issues.add(at(key), ConfigSection.unknownKeyMessage(key, known: Array(known)))
        }
    }

    /// "unknown key; did you mean learning_rate?" or the list of keys.
    public static func unknownKeyMessage(_ key: String, known: [String]) -> String {
        if let near = nearestKey(to: key, in: known) { return "unknown key; did you mean \(near)?" }
        return "unknown key (keys here: \(known.sorted().joined(separator: ", ")))"
    }

    /// Names from before the dialect was unified, and other common spellings.
    static let formerNames: [String: String] = [
        "lr": "learning_rate", "kind": "type", "optimizer": "type", "datadirectory": "data_dir", "datadir": "data_dir",
    ]

    /// The known key a user most likely meant: the same letters in another case or
    /// spelling (`learningRate`, `learning-rate`), a former name (`lr`, `kind`), or one
    /// or two typing slips.
    public static func nearestKey(to key: String, in known: [String]) -> String? {
        func plain(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
        let k = plain(key)
        if let exact = known.sorted().first(where: { plain($0) == k }) { return exact }
        if let former = formerNames[k], known.contains(former) { return former }
        let limit = k.count <= 4 ? 1 : 2
        let scored = known.map { (name: $0, distance: editDistance(k, plain($0))) }.filter { $0.distance <= limit }
        return scored.min { ($0.distance, $0.name) < ($1.distance, $1.name) }?.name
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0 ... b.count)
        for i in 1 ... a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1 ... b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
