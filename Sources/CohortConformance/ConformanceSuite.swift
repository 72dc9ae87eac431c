import CohortCluster
import Foundation

/// One suite of behavioural checks that every ``Communicator`` backend must pass.
///
/// The same checks run in-process (inside `swift test`, over ``LocalCommunicator``) and
/// under a real `mpirun` (the `cohort-conformance` executable, over ``MPICommunicator``),
/// so the two backends cannot drift apart. Expected values are computed here from the
/// rank and size, and chosen so that floating-point sums are exact: any difference is
/// a bug, not rounding.
public enum ConformanceSuite {
    /// A named check; it records mismatches in the ``Expectations`` it is given.
    public struct Check {
        public let name: String
        public let body: (Communicator, Expectations) throws -> Void
    }

    /// Runs every check (or those whose name contains `filter`) on `comm` and returns
    /// the failures seen by this rank. Every rank must call it with the same arguments.
    /// `largestLength` caps the buffer lengths the collective checks use (debug builds
    /// running many in-process ranks pass a smaller cap).
    public static func run(on comm: Communicator, filter: String? = nil, largestLength: Int = 65_537) throws -> [String] {
        let expectations = Expectations(rank: comm.rank, size: comm.size,
                                        lengths: lengths.filter { $0 <= largestLength })
        for check in checks where filter.map({ check.name.contains($0) }) ?? true {
            expectations.current = check.name
            try check.body(comm, expectations)
            try comm.barrier()
        }
        return expectations.failures
    }

    /// The names of all checks, in the order they run.
    public static var checkNames: [String] { checks.map(\.name) }

    static let checks: [Check] = [
        Check(name: "identity", body: identity),
        Check(name: "allreduce-float", body: { c, e in try allreduce(Float.self, c, e) }),
        Check(name: "allreduce-double", body: { c, e in try allreduce(Double.self, c, e) }),
        Check(name: "allreduce-int", body: allreduceIntegers),
        Check(name: "allreduce-identical-bits", body: allreduceIdenticalBits),
        Check(name: "reduce", body: reduce),
        Check(name: "broadcast", body: broadcast),
        Check(name: "gather-variable", body: gather),
        Check(name: "scatter-variable", body: scatter),
        Check(name: "p2p-ring", body: ring),
        Check(name: "p2p-probe", body: probe),
        Check(name: "p2p-any-source", body: anySource),
        Check(name: "p2p-codable", body: codable),
        Check(name: "p2p-nonblocking", body: nonBlocking),
        Check(name: "split", body: split),
        Check(name: "errors", body: errors),
    ]

    /// Lengths that are not multiples of anything convenient, plus edge cases.
    static let lengths = [1, 2, 7, 1_000, 4_099, 65_537]
}

/// Records mismatches without throwing, so a failed check never leaves other ranks
/// stuck in a collective.
public final class Expectations: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Buffer lengths the collective checks reduce.
    let lengths: [Int]
    var current = ""
    public private(set) var failures: [String] = []

    init(rank: Int, size: Int, lengths: [Int]) {
        self.rank = rank
        self.size = size
        self.lengths = lengths
    }

    public func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { failures.append("[\(current)] rank \(rank)/\(size): \(message())") }
    }

    public func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String) {
        if actual != expected {
            let a = String(describing: actual).prefix(200), x = String(describing: expected).prefix(200)
            failures.append("[\(current)] rank \(rank)/\(size): \(what()): got \(a), expected \(x)")
        }
    }
}
