import Foundation

/// Errors a tuning run reports to its user, one readable line each.
public enum TuneError: Error, Equatable, CustomStringConvertible {
    case ranks(String)
    case io(String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case let .ranks(s): return s
        case let .io(s): return s
        case let .protocolViolation(s): return "job farm protocol: \(s)"
        }
    }
}
