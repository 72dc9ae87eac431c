import CohortTune

/// Problems found while reading a config, collected so that a user fixes them all in
/// one pass.
final class ConfigIssues {
    private(set) var list: [ConfigIssue] = []
    func add(_ path: String, _ message: String) { list.append(ConfigIssue(path: path, message: message)) }
    func add(_ error: ConfigError) { list += error.issues }
    var isEmpty: Bool { list.isEmpty }
    var count: Int { list.count }
}

/// One mapping of a config, read with typed accessors that record a readable issue for
/// every missing, mistyped or unknown field instead of stopping at the first.
struct ConfigSection {
    let path: String
    let members: [(key: String, value: JSONValue)]
    let issues: ConfigIssues

    /// The mapping at `value`, or `nil` (with an issue when it is required or mistyped).
    init?(_ value: JSONValue?, path: String, issues: ConfigIssues, required: Bool = false, hint: String = "") {
        self.path = path
        self.issues = issues
        guard let value else {
            if required { issues.add(path, "is missing" + (hint.isEmpty ? "" : " (\(hint))")) }
            return nil
        }
        guard let members = value.objectMembers else {
            issues.add(path, "must be a mapping, got \(value.kindName)")
            return nil
        }
        self.members = members
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    subscript(key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// Records every key not in `known`.
    func allowOnly(_ known: [String]) {
        for (key, _) in members where !known.contains(key) {
            issues.add(at(key), "is not a setting (settings: \(known.joined(separator: ", ")))")
        }
    }

    func section(_ key: String, required: Bool = false, hint: String = "") -> ConfigSection? {
        ConfigSection(self[key], path: at(key), issues: issues, required: required, hint: hint)
    }

    func double(_ key: String, _ fallback: Double? = nil) -> Double? {
        guard let v = self[key] else { return fallback }
        guard let d = v.doubleValue, d.isFinite else {
            issues.add(at(key), "must be a number, got \(v.kindName)")
            return fallback
        }
        return d
    }

    func int(_ key: String, _ fallback: Int? = nil) -> Int? {
        guard let v = self[key] else { return fallback }
        guard let i = v.intValue else {
            issues.add(at(key), "must be a whole number, got \(v.kindName == "a number" ? "\(v)" : v.kindName)")
            return fallback
        }
        return i
    }

    func string(_ key: String, _ fallback: String? = nil) -> String? {
        guard let v = self[key] else { return fallback }
        guard let s = v.stringValue else {
            issues.add(at(key), "must be a name, got \(v.kindName)")
            return fallback
        }
        return s
    }

    func bool(_ key: String, _ fallback: Bool) -> Bool {
        guard let v = self[key] else { return fallback }
        guard let b = v.boolValue else {
            issues.add(at(key), "must be true or false, got \(v.kindName)")
            return fallback
        }
        return b
    }

    /// A choice among `allowed` names.
    func choice<T: RawRepresentable>(_ key: String, _ fallback: T) -> T where T.RawValue == String, T: CaseIterable {
        guard let name = string(key) else { return fallback }
        guard let value = T(rawValue: name) else {
            issues.add(at(key), "unknown value '\(name)' (expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
            return fallback
        }
        return value
    }

    func numbers(_ key: String) -> [Double]? {
        guard let v = self[key] else { return nil }
        guard let list = v.arrayValue else {
            issues.add(at(key), "must be a list of numbers, got \(v.kindName)")
            return nil
        }
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

    func integers(_ key: String) -> [Int]? {
        guard let values = numbers(key) else { return nil }
        guard values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }) else {
            issues.add(at(key), "must be a list of whole numbers")
            return nil
        }
        return values.map { Int($0) }
    }

    /// Runs a validation that throws `FederatedError`, turning its message into an issue.
    func check(_ body: () throws -> Void) {
        do { try body() } catch let error as FederatedError {
            switch error {
            case let .invalidValue(field, message): issues.add(field, message)
            default: issues.add(path.isEmpty ? "config" : path, error.description)
            }
        } catch {
            issues.add(path.isEmpty ? "config" : path, "\(error)")
        }
    }
}
