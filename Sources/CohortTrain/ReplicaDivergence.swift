import CohortCluster

/// Data-parallel ranks ended a step holding different weights. Every rank compares
/// every rank's digest (one allgather), so every rank raises this same error at the
/// same step: the run stops everywhere at once and the error is reported once.
public struct ReplicaDivergence: UniformError, Equatable {
    public let step: Int
    /// One digest per rank, in rank order.
    public let digests: [UInt64]
    /// What was compared, e.g. "weights" or "supernet and architecture weights".
    public let what: String

    public init(step: Int, digests: [UInt64], what: String = "weights") {
        self.step = step
        self.digests = digests
        self.what = what
    }

    public var description: String {
        let listed = digests.enumerated().map { "rank \($0.offset) \(String($0.element, radix: 16))" }.joined(separator: ", ")
        return "ranks diverged: after step \(step) their \(what) differ (\(listed)); stopping"
    }

    /// Throws unless every rank's `digest` is the same; call on every rank together.
    public static func check(_ digest: UInt64, step: Int, what: String = "weights", communicator: Communicator) throws {
        guard communicator.size > 1 else { return }
        let all = try communicator.allgather([Int64(bitPattern: digest)]).map { UInt64(bitPattern: $0[0]) }
        guard Set(all).count == 1 else { throw ReplicaDivergence(step: step, digests: all, what: what) }
    }
}
