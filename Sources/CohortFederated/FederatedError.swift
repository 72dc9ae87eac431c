import CohortCluster
import CohortFiles
import CohortData

/// Everything that can stop a federated run before or while it starts: a config value out
/// of range, a data file that cannot be used, a run directory that cannot be resumed.
///
/// Every rank reads the same config and the same files, so every rank raises the same
/// error at the same point; conforming to `UniformError` lets the command line print it
/// once instead of once per rank.
public enum FederatedError: UniformError, Equatable, Sendable {
    /// A config value outside its allowed range; `field` is a dotted config path.
    case invalidValue(field: String, message: String)
    /// A data file or directory that cannot be read or does not follow its format.
    case badData(path: String, message: String)
    /// A run directory that cannot be created, read or resumed.
    case runDirectory(path: String, message: String)
    /// A data set, partition or sampling request that cannot be satisfied.
    case unsatisfiable(String)

    public var description: String {
        switch self {
        case let .invalidValue(field, message): return "\(field): \(message)"
        case let .badData(path, message): return "\(path): \(message)"
        case let .runDirectory(path, message): return "run directory \(path): \(message)"
        case let .unsatisfiable(message): return message
        }
    }

    /// Runs `body`, turning CohortData's errors (which every rank also meets identically)
    /// into a `FederatedError` so they are reported once.
    static func wrappingDataErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatasetError {
            throw FederatedError.unsatisfiable(error.description)
        }
    }
}

extension FederatedError: ConfigFieldError {
    /// An invalid value is a problem of its config field.
    public var configIssue: ConfigIssue? {
        if case let .invalidValue(field, message) = self { return ConfigIssue(path: field, message: message) }
        return nil
    }
}

// MARK: Checks shared by config validation

extension FederatedError {
    /// Throws unless `value` is finite and strictly positive.
    static func requirePositive(_ value: Double, _ field: String) throws {
        guard value.isFinite, value > 0 else {
            throw FederatedError.invalidValue(field: field, message: "must be a positive number, got \(value)")
        }
    }

    /// Throws unless `value` is finite and not negative.
    static func requireNonNegative(_ value: Double, _ field: String) throws {
        guard value.isFinite, value >= 0 else {
            throw FederatedError.invalidValue(field: field, message: "must be zero or positive, got \(value)")
        }
    }

    /// Throws unless `value` is a whole number of at least `minimum`.
    static func requireAtLeast(_ value: Int, _ minimum: Int, _ field: String) throws {
        guard value >= minimum else {
            throw FederatedError.invalidValue(field: field, message: "must be at least \(minimum), got \(value)")
        }
    }

    /// Throws unless `value` lies in `[0, 1)` (a fraction that must leave something over).
    static func requireFraction(_ value: Double, _ field: String) throws {
        guard value.isFinite, value >= 0, value < 1 else {
            throw FederatedError.invalidValue(field: field, message: "must be in [0, 1), got \(value)")
        }
    }
}
