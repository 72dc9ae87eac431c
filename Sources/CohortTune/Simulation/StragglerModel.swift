import CohortFiles
import Foundation
import CohortTensor

/// How much longer than its unloaded duration a job takes on a simulated cluster:
/// the slow machines, noisy neighbours and contended file systems of a real one.
///
/// Written on the command line as
/// - `none`: every job takes exactly its duration;
/// - `lognormal:SIGMA`: the duration is multiplied by exp(SIGMA * |z|), z ~ N(0, 1):
///   a lognormal tail of slow jobs (median slow-down exp(0.674 SIGMA)). The
///   absolute value matters: with exp(SIGMA * z) half the jobs would run *faster*
///   than unloaded, and the quickest of hundreds of jobs would finish a full
///   training in a fraction of time(R), which no cluster does;
/// - `fraction:P:K`: a fraction P of the jobs runs K times slower, the rest at speed.
public enum StragglerModel: Equatable, Sendable, CustomStringConvertible {
    case none
    case lognormal(sigma: Double)
    case fraction(Double, slowdown: Double)

    /// Parses the command-line form; a bad one is a readable error.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        func number(_ s: String, _ what: String) throws -> Double {
            guard let d = Double(s), d.isFinite else { throw SimulationError.badStragglers("\(what) must be a number, got '\(s)' in '\(text)'") }
            return d
        }
        switch parts[0] {
        case "none" where parts.count == 1:
            self = .none
        case "lognormal" where parts.count == 2:
            let sigma = try number(parts[1], "SIGMA")
            guard sigma >= 0 else { throw SimulationError.badStragglers("SIGMA must be at least 0, got \(sigma)") }
            self = .lognormal(sigma: sigma)
        case "fraction" where parts.count == 3:
            let p = try number(parts[1], "P"), k = try number(parts[2], "K")
            guard p >= 0, p <= 1 else { throw SimulationError.badStragglers("P must be between 0 and 1, got \(p)") }
            guard k >= 1 else { throw SimulationError.badStragglers("K must be at least 1 (a slow-down), got \(k)") }
            self = .fraction(p, slowdown: k)
        default:
            throw SimulationError.badStragglers("unknown straggler model '\(text)' (expected none, lognormal:SIGMA or fraction:P:K)")
        }
    }

    /// One job's slow-down factor (>= 1; 1 means on time).
    public func slowdown(_ rng: inout RandomStream) -> Double {
        switch self {
        case .none: return 1
        case let .lognormal(sigma): return sigma == 0 ? 1 : exp(sigma * abs(rng.normal()))
        case let .fraction(p, k): return rng.uniformDouble() < p ? k : 1
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case let .lognormal(sigma): return "lognormal:\(JSONValue.number(sigma))"
        case let .fraction(p, k): return "fraction:\(JSONValue.number(p)):\(JSONValue.number(k))"
        }
    }

    /// Words for tables and reports.
    public var summary: String {
        switch self {
        case .none: return "no stragglers"
        case let .lognormal(sigma): return "lognormal-tailed slow-downs exp(\(JSONValue.number(sigma))|z|)"
        case let .fraction(p, k): return "\(JSONValue.number(p * 100))% of jobs \(JSONValue.number(k))x slower"
        }
    }
}

/// Bad settings of a simulated cluster.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case badStragglers(String)
    case badCluster(String)
    case notSimulatable(String)
    case stalled(Double)

    public var description: String {
        switch self {
        case let .badStragglers(s): return "--stragglers: \(s)"
        case let .badCluster(s): return s
        case let .notSimulatable(t): return "trainable '\(t)' cannot run on a simulated cluster: it has no cost model (use the surrogate)"
        case let .stalled(t): return "the simulated farm stalled at t=\(JSONValue.number(t)) s: workers wait and nothing runs"
        }
    }
}
