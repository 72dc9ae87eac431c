import Foundation

/// One problem found in a config, at a dotted path such as `space.learning_rate.low`.
public struct ConfigIssue: Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Every problem found while validating a config, one readable line each, so a user
/// fixes them all in one pass instead of one per run. The one config error of every
/// command: `train`, `tune`, `fed` and `nas` all throw it.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(_ issues: [ConfigIssue]) { self.issues = issues }
    /// One problem at `path`.
    public init(at path: String, _ message: String) { self.init([ConfigIssue(path: path, message: message)]) }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// An error about one config field (a value a workload's own validation refused);
/// ``ConfigSection/check(_:)`` files it under that field with the other problems.
public protocol ConfigFieldError: Error {
    var configIssue: ConfigIssue? { get }
}

/// Problems collected while reading a config: every section of one document shares
/// one collection, so reading goes on after a problem and all of them are reported.
public final class ConfigIssues {
    public private(set) var list: [ConfigIssue] = []
    public init() {}
    public func add(_ path: String, _ message: String) { list.append(ConfigIssue(path: path, message: message)) }
    public func add(_ issue: ConfigIssue) { list.append(issue) }
    public func add(_ error: ConfigError) { list += error.issues }
    public var isEmpty: Bool { list.isEmpty }
    public var count: Int { list.count }
    /// Throws every problem collected so far, if there is any.
    public func throwIfAny() throws { if !list.isEmpty { throw ConfigError(list) } }
}
