import CohortData
import CohortTensor

/// How a centralized labelled data set is divided among clients.
public enum PartitionScheme: Sendable, Equatable {
    /// A uniformly random division into parts whose sizes differ by at most one.
    case iid
    /// Label skew: for each class, the class's samples are divided among the clients in
    /// proportions drawn from a symmetric Dirichlet(`alpha`). Small alpha gives each client
    /// few classes; large alpha approaches IID. Draws are repeated (each from its own
    /// stream) until every client has at least `minimumSamples` samples.
    case dirichlet(alpha: Double, minimumSamples: Int)
    /// McMahan et al.'s pathological split: samples sorted by label, cut into
    /// `clients * shardsPerClient` shards of consecutive samples, each client given
    /// `shardsPerClient` shards at random (2 in the FedAvg paper, so most clients see two
    /// classes).
    case shards(perClient: Int)

    /// A short name for records, e.g. `dirichlet(0.5)`.
    public var name: String {
        switch self {
        case .iid: return "iid"
        case let .dirichlet(alpha, _): return "dirichlet(\(alpha))"
        case let .shards(perClient): return "shards(\(perClient))"
        }
    }
}

/// Divides sample indices among clients; pure functions of the labels, the scheme and the
/// seed, so every rank computes the same partition without communicating.
public enum ClientPartition {
    /// How many fresh Dirichlet draws are tried before a minimum client size is declared
    /// out of reach.
    public static let maximumDirichletAttempts = 1_000

    /// The indices of each client's samples, ascending within a client. Every index of
    /// `0 ..< labels.count` belongs to exactly one client.
    public static func assign(labels: [Int32], classCount: Int, clients: Int, scheme: PartitionScheme,
                              seed: UInt64) throws -> [[Int]] {
        try FederatedError.requireAtLeast(clients, 1, "data.clients")
        guard clients <= labels.count else {
            throw FederatedError.invalidValue(
                field: "data.clients", message: "\(clients) clients cannot share \(labels.count) samples")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classCount }) {
            throw FederatedError.unsatisfiable("label \(bad) is outside 0..<\(classCount)")
        }
        let random = RandomStream(seed: seed, stream: [StreamPurpose.partition])
        var parts: [[Int]]
        switch scheme {
        case .iid:
            parts = iid(count: labels.count, clients: clients, random: random)
        case let .dirichlet(alpha, minimumSamples):
            try FederatedError.requirePositive(alpha, "data.partition.alpha")
            try FederatedError.requireAtLeast(minimumSamples, 0, "data.partition.minimum_samples")
            guard minimumSamples * clients <= labels.count else {
                throw FederatedError.unsatisfiable(
                    "\(clients) clients of at least \(minimumSamples) samples need \(minimumSamples * clients) samples; the data set has \(labels.count)")
            }
            parts = try dirichlet(labels: labels, classCount: classCount, clients: clients, alpha: alpha,
                                  minimumSamples: minimumSamples, random: random)
        case let .shards(perClient):
            try FederatedError.requireAtLeast(perClient, 1, "data.partition.shards_per_client")
            guard clients * perClient <= labels.count else {
                throw FederatedError.unsatisfiable(
                    "\(clients * perClient) shards (\(clients) clients x \(perClient)) cannot be cut from \(labels.count) samples")
            }
            parts = shards(labels: labels, clients: clients, perClient: perClient, random: random)
        }
        for i in parts.indices { parts[i].sort() }
        return parts
    }

    // MARK: Schemes

    private static func iid(count: Int, clients: Int, random: RandomStream) -> [[Int]] {
        var stream = random
        let order = stream.permutation(count)
        return (0 ..< clients).map { client in
            Array(order[DataParallelShard.bounds(count: count, rank: client, rankCount: clients)])
        }
    }

    private static func dirichlet(labels: [Int32], classCount: Int, clients: Int, alpha: Double,
                                  minimumSamples: Int, random: RandomStream) throws -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { byClass[Int(label)].append(index) }
        for attempt in 0 ..< maximumDirichletAttempts {
            var stream = random.derived(UInt64(attempt))
            var parts = [[Int]](repeating: [], count: clients)
            for members in byClass where !members.isEmpty {
                var shuffled = members
                stream.shuffle(&shuffled)
                let proportions = stream.dirichlet(alpha: alpha, count: clients)
                // Cut points at floor(cumulative proportion * class size), the last at the end.
                var start = 0
                var cumulative = 0.0
                for client in 0 ..< clients {
                    cumulative += proportions[client]
                    let end = client == clients - 1 ? shuffled.count
                                                    : min(shuffled.count, Int(cumulative * Double(shuffled.count)))
                    if end > start { parts[client].append(contentsOf: shuffled[start ..< end]) }
                    start = max(start, end)
                }
            }
            if parts.allSatisfy({ $0.count >= minimumSamples }) { return parts }
        }
        throw FederatedError.unsatisfiable(
            "Dirichlet(\(alpha)) over \(clients) clients gave some client fewer than \(minimumSamples) samples in \(maximumDirichletAttempts) draws; lower data.partition.minimum_samples, raise alpha or use fewer clients")
    }

    private static func shards(labels: [Int32], clients: Int, perClient: Int, random: RandomStream) -> [[Int]] {
        // Sorted by label, ties by index, so a shard holds one or two labels.
        let sorted = labels.indices.sorted { labels[$0] != labels[$1] ? labels[$0] < labels[$1] : $0 < $1 }
        let shardCount = clients * perClient
        var stream = random
        let shardOrder = stream.permutation(shardCount)
        return (0 ..< clients).map { client in
            shardOrder[client * perClient ..< (client + 1) * perClient].flatMap { shard in
                sorted[DataParallelShard.bounds(count: sorted.count, rank: shard, rankCount: shardCount)]
            }
        }
    }
}

// MARK: Building a federation from a centralized data set

extension FederatedDataset {
    /// Divides `source` among `clients` clients and splits each client's samples into
    /// train, validation and test (seeded, stratified per client). Clients are named
    /// `client-0000`, `client-0001`, ...
    ///
    /// - Parameters:
    ///   - validationFraction, testFraction: each client's shares; the rest trains.
    ///   - heldOutClients: how many clients (chosen by the seed) never train and are
    ///     evaluated apart.
    public static func partitioning(_ source: Dataset, clients: Int, scheme: PartitionScheme,
                                    validationFraction: Double, testFraction: Double,
                                    heldOutClients: Int = 0, seed: UInt64) throws -> FederatedDataset {
        try FederatedError.requireFraction(validationFraction, "data.validation_fraction")
        try FederatedError.requireFraction(testFraction, "data.test_fraction")
        guard validationFraction + testFraction < 1 else {
            throw FederatedError.invalidValue(
                field: "data.validation_fraction",
                message: "plus data.test_fraction (\(validationFraction) + \(testFraction)) leaves no training samples")
        }
        let parts = try ClientPartition.assign(labels: source.labels, classCount: source.classCount,
                                               clients: clients, scheme: scheme, seed: seed)
        let width = String(max(4, String(clients - 1).count))
        let federatedClients: [FederatedClient] = try parts.enumerated().map { index, members in
            let id = String(format: "client-%0\(width)d", index)
            let (train, validation, test) = try FederatedError.wrappingDataErrors {
                try source.subset(members, name: id).split(
                    validationFraction: validationFraction, testFraction: testFraction, seed: seed,
                    stream: splitStream(group: 0, client: index))
            }
            guard train.count > 0 else {
                throw FederatedError.unsatisfiable(
                    "client \(id) has \(members.count) samples and none left for training after the validation and test shares")
            }
            return FederatedClient(id: id, train: train, validation: validation, test: test)
        }
        let name = "\(source.name)/\(scheme.name)x\(clients)"
        return try FederatedDataset(name: name, clients: federatedClients).holdingOut(heldOutClients, seed: seed)
    }
}
