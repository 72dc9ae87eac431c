import CohortCluster

/// The worker ranks grouped to train trials data-parallel (`farm.ranks_per_trial`).
///
/// Groups are made within a host where possible (their allreduces then stay in shared
/// memory): each host's workers, in rank order, are cut into groups of k, and what is
/// left over on every host is pooled in host order and cut the same way. A group's
/// first rank is its leader: it alone talks to the coordinator, which sees each group
/// as one worker named by the leader's rank. The plan is a pure function of every
/// rank's host name, so every rank computes the same one without a message.
public struct TrainingGroups: Equatable, Sendable {
    /// World ranks of each group, leader first; groups ordered by leader.
    public let members: [[Int]]

    /// The leaders' ranks: the workers the coordinator farms jobs out to.
    public var leaders: [Int] { members.map { $0[0] } }

    /// Groups of `ranksPerTrial` over ranks 1..<hosts.count, where `hosts[r]` is rank
    /// r's host. Throws ``problem(workers:ranksPerTrial:underMPI:)`` unless the worker
    /// count is a multiple of `ranksPerTrial`.
    public init(hosts: [String], ranksPerTrial k: Int) throws {
        let workers = max(0, hosts.count - 1)
        if k < 1 { throw TuneRunner.TuneInputError("farm.ranks_per_trial: must be at least 1, got \(k)") }
        if let problem = Self.problem(workers: workers, ranksPerTrial: k) { throw TuneRunner.TuneInputError(problem) }
        var hostOrder: [String] = []
        var workersOf: [String: [Int]] = [:]
        for rank in stride(from: 1, to: hosts.count, by: 1) {
            if workersOf[hosts[rank]] == nil { hostOrder.append(hosts[rank]) }
            workersOf[hosts[rank], default: []].append(rank)
        }
        var groups: [[Int]] = [], leftover: [Int] = []
        for host in hostOrder {
            let ranks = workersOf[host] ?? []
            let whole = ranks.count / k * k
            groups += stride(from: 0, to: whole, by: k).map { Array(ranks[$0..<$0 + k]) }
            leftover += ranks[whole...]
        }
        groups += stride(from: 0, to: leftover.count, by: k).map { Array(leftover[$0..<$0 + k]) }
        members = groups.sorted { $0[0] < $1[0] }
    }

    /// Why `workers` worker ranks cannot form groups of `ranksPerTrial`; nil when they
    /// can. The hint names mpirun's `-np` or, for in-process workers, `--workers`.
    public static func problem(workers: Int, ranksPerTrial k: Int, underMPI: Bool = true) -> String? {
        guard k > 1, workers % k != 0 else { return nil }
        let fit = max(1, workers / k) * k
        let hint = underMPI ? "mpirun -np N gives N-1 workers: use -np \(1 + fit)" : "use --workers \(fit)"
        return "farm.ranks_per_trial: \(k) does not divide the \(workers) worker ranks into groups (\(hint), or another multiple of \(k))"
    }

    /// The group `rank` belongs to (nil for the coordinator).
    public func group(of rank: Int) -> (index: Int, position: Int)? {
        for (i, m) in members.enumerated() { if let p = m.firstIndex(of: rank) { return (i, p) } }
        return nil
    }

    /// This rank's group as a communicator, leader at group rank 0 (a collective over
    /// `comm`: every rank calls it; the coordinator gets nil).
    public func split(_ comm: Communicator) throws -> Communicator? {
        let mine = group(of: comm.rank)
        return try comm.split(color: mine?.index, key: mine?.position ?? 0)
    }
}
