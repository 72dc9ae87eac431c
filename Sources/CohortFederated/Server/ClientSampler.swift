import CohortTensor
import Foundation

/// What happens to a sampled client that turns out to be a straggler (FedProx's
/// systems-heterogeneity simulation).
public enum StragglerPolicy: String, Codable, Sendable, CaseIterable {
    /// Its update is dropped, as FedAvg does under a deadline.
    case drop
    /// It sends what it finished: FedProx's "partial work", a number of local epochs drawn
    /// uniformly (see ``PartialWorkEpochs``).
    case partialWork = "partial_work"
}

/// The range a straggler's local epochs are drawn from under partial work.
public enum PartialWorkEpochs: String, Codable, Sendable, CaseIterable {
    /// 1 ... E, as the FedProx paper describes it.
    case upToE = "up_to_e"
    /// 1 ... E-1, as FedProx's reference code draws it (numpy's randint excludes its upper
    /// bound), so a straggler always does less than E. With E = 1 it runs the one epoch.
    case belowE = "below_e"
}

/// How many clients take part in a round, and how many of them straggle.
public struct ClientSampling: Codable, Equatable, Sendable {
    /// Clients per round; with `fraction` too, the larger of the two.
    public var clientsPerRound: Int?
    /// Share C of the clients per round: `max(1, floor(C K))`, as in the FedAvg paper.
    public var fraction: Double?
    /// The share of sampled clients that straggle (FedProx's drop percent).
    public var dropRate: Double
    public var stragglers: StragglerPolicy
    public var partialWorkEpochs: PartialWorkEpochs
    /// Draw each round's clients independently, so one client may train twice in a round
    /// (FedEx's reference code draws them so); without replacement by default, as FedAvg.
    public var withReplacement: Bool

    public init(clientsPerRound: Int? = nil, fraction: Double? = nil, dropRate: Double = 0,
                stragglers: StragglerPolicy = .drop, partialWorkEpochs: PartialWorkEpochs = .upToE, withReplacement: Bool = false) {
        self.clientsPerRound = clientsPerRound
        self.fraction = fraction
        self.dropRate = dropRate
        self.stragglers = stragglers
        self.partialWorkEpochs = partialWorkEpochs
        self.withReplacement = withReplacement
    }

    /// Clients sampled per round out of `population`; throws when the request cannot be met.
    public func perRound(population: Int) throws -> Int {
        guard clientsPerRound != nil || fraction != nil else {
            throw FederatedError.invalidValue(field: "sampling", message: "give clients_per_round, fraction, or both")
        }
        var count = 0
        if let clientsPerRound {
            try FederatedError.requireAtLeast(clientsPerRound, 1, "sampling.clients_per_round")
            guard clientsPerRound <= population else {
                throw FederatedError.invalidValue(
                    field: "sampling.clients_per_round",
                    message: "asks for \(clientsPerRound) clients per round but there are only \(population) training clients")
            }
            count = clientsPerRound
        }
        if let fraction {
            guard fraction.isFinite, fraction > 0, fraction <= 1 else {
                throw FederatedError.invalidValue(field: "sampling.fraction", message: "must be in (0, 1], got \(fraction)")
            }
            count = max(count, max(1, Int((fraction * Double(population) + 1e-9).rounded(.down))))
        }
        return count
    }

    public func validate(population: Int) throws {
        _ = try perRound(population: population)
        try FederatedError.requireFraction(dropRate, "sampling.drop_rate")
        if withReplacement && dropRate > 0 {
            throw FederatedError.invalidValue(field: "sampling.with_replacement", message: "cannot be combined with drop_rate > 0 (stragglers are drawn among distinct clients)")
        }
    }
}

/// The clients of one round.
public struct RoundParticipants: Codable, Equatable, Sendable {
    public var round: Int
    /// Every sampled client, ascending (with replacement, a client may appear more than once).
    public var selected: [Int]
    /// The sampled clients that straggle, ascending (a subset of `selected`).
    public var stragglers: [Int]
    /// The clients whose updates are aggregated, ascending: all of `selected` under
    /// partial work, `selected` minus `stragglers` when stragglers drop.
    public var contributing: [Int]
}

/// Draws each round's clients from streams named by the seed and the round alone, so the
/// same clients train in round t however many ranks run and wherever a run resumed.
public struct ClientSampler: Sendable {
    public let sampling: ClientSampling
    /// The number of training clients K (held-out clients are never sampled).
    public let population: Int
    /// Clients sampled per round.
    public let perRound: Int
    public let seed: UInt64

    public init(sampling: ClientSampling, population: Int, seed: UInt64) throws {
        try sampling.validate(population: population)
        self.sampling = sampling
        self.population = population
        self.perRound = try sampling.perRound(population: population)
        self.seed = seed
    }

    /// Clients that straggle in a round: `perRound - round(perRound (1 - dropRate))`,
    /// rounding half to even as FedProx's Python does.
    public var stragglersPerRound: Int {
        perRound - Int((Double(perRound) * (1 - sampling.dropRate)).rounded(.toNearestOrEven))
    }

    /// The participants of `round`: `perRound` clients uniformly without replacement (or
    /// each drawn independently, with replacement), then the stragglers uniformly among them.
    public func participants(round: Int) -> RoundParticipants {
        var selection = RandomStream(seed: seed, stream: [StreamPurpose.clientSampling, UInt64(round)])
        let selected = sampling.withReplacement
            ? (0 ..< perRound).map { _ in selection.index(below: population) }.sorted()
            : selection.sampleWithoutReplacement(perRound, from: population).sorted()
        var stragglerStream = RandomStream(seed: seed, stream: [StreamPurpose.stragglers, UInt64(round)])
        let stragglers = stragglerStream.sampleWithoutReplacement(stragglersPerRound, from: selected.count)
            .map { selected[$0] }.sorted()
        let contributing = sampling.stragglers == .drop ? selected.filter { !stragglers.contains($0) } : selected
        return RoundParticipants(round: round, selected: selected, stragglers: stragglers, contributing: contributing)
    }

    /// The local epochs `client` runs in `round`: `epochs`, or for a straggler under
    /// partial work a uniform draw from 1 ... `epochs` (1 ... `epochs` - 1 with
    /// ``PartialWorkEpochs/belowE``).
    public func localEpochs(round: Int, client: Int, epochs: Int, participants: RoundParticipants) -> Int {
        guard sampling.stragglers == .partialWork, participants.stragglers.contains(client) else { return epochs }
        let choices = sampling.partialWorkEpochs == .belowE ? epochs - 1 : epochs
        guard choices > 1 else { return Swift.min(epochs, 1) }
        var stream = RandomStream(seed: seed, stream: [StreamPurpose.stragglerWork, UInt64(round), UInt64(client)])
        return 1 + stream.index(below: choices)
    }
}

/// Which rank trains which of a round's clients.
///
/// Longest-processing-time first: clients in decreasing order of work (ties by client
/// index) each go to the rank with the least work so far (ties to the lower rank). A pure
/// function of the round's clients and the rank count, so every rank computes the same
/// plan without communicating, and skewed client sizes (Dirichlet partitions) still
/// spread evenly.
public enum RoundAssignment {
    /// For each rank, the clients it trains, ascending.
    public static func assign(clients: [Int], work: (Int) -> Int, ranks: Int) -> [[Int]] {
        precondition(ranks > 0, "need at least one rank")
        let order = clients.sorted { work($0) != work($1) ? work($0) > work($1) : $0 < $1 }
        var load = [Int](repeating: 0, count: ranks)
        var plan = [[Int]](repeating: [], count: ranks)
        for client in order {
            var target = 0
            for r in 1 ..< ranks where load[r] < load[target] { target = r }
            plan[target].append(client)
            load[target] += max(work(client), 1)
        }
        return plan.map { $0.sorted() }
    }
}
