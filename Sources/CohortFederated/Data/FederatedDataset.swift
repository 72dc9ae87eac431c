import CohortData
import CohortTensor

/// One client of a federation: its own training, validation and test samples.
///
/// The training part is what the client trains on in a round and its size is the
/// client's aggregation weight; the validation part scores local hyperparameters (FedEx);
/// the test part joins the pooled test accuracy. Validation or test may be empty.
public struct FederatedClient: Sendable, Equatable {
    /// A stable name, e.g. `f_00007` (Synthetic), a LEAF user name, or `client-0042`.
    public var id: String
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset

    public init(id: String, train: Dataset, validation: Dataset, test: Dataset) {
        self.id = id
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// The client's aggregation weight: its number of training samples.
    public var sampleCount: Int { train.count }
}

/// A federation: the clients that take part in training, and held-out clients that never
/// train and are only evaluated (how well the global model serves clients it never saw).
///
/// Client `i` of `clients` is the client every round, every rank and every rerun calls
/// `i`; its random streams derive from that index.
public struct FederatedDataset: Sendable, Equatable {
    public var name: String
    public var clients: [FederatedClient]
    public var heldOutClients: [FederatedClient]
    /// The shape of one sample, the same for every client.
    public let sampleShape: [Int]
    /// The number of classes, the same for every client.
    public let classCount: Int
    /// For text (Shakespeare): the characters that inputs and labels index.
    public var vocabulary: CharacterVocabulary?

    /// Creates a federation after checking that every client's samples agree in shape
    /// and class count.
    public init(name: String, clients: [FederatedClient], heldOutClients: [FederatedClient] = []) throws {
        guard let first = clients.first else {
            throw FederatedError.unsatisfiable("data set \(name) has no clients")
        }
        let shape = first.train.sampleShape
        let classes = first.train.classCount
        for client in clients + heldOutClients {
            for part in [client.train, client.validation, client.test] {
                guard part.sampleShape.reduce(1, *) == shape.reduce(1, *), part.classCount == classes else {
                    throw FederatedError.unsatisfiable(
                        "data set \(name): client \(client.id) has samples of shape \(part.sampleShape) with \(part.classCount) classes, expected \(shape) with \(classes)")
                }
            }
        }
        if let empty = clients.first(where: { $0.train.count == 0 }) {
            throw FederatedError.unsatisfiable("data set \(name): client \(empty.id) has no training samples")
        }
        var seen = Set<String>()
        for client in clients + heldOutClients where !seen.insert(client.id).inserted {
            throw FederatedError.unsatisfiable("data set \(name): client id \(client.id) appears twice")
        }
        self.name = name
        self.clients = clients
        self.heldOutClients = heldOutClients
        self.sampleShape = shape
        self.classCount = classes
    }

    /// Values per sample.
    public var featureCount: Int { sampleShape.reduce(1, *) }

    /// Training samples over all training clients.
    public var trainSampleCount: Int { clients.reduce(0) { $0 + $1.train.count } }

    /// Test samples over all training clients.
    public var testSampleCount: Int { clients.reduce(0) { $0 + $1.test.count } }

    // MARK: Reshaping the federation

    /// Moves `count` clients, chosen by a stream named by `seed`, to `heldOutClients`.
    /// Both groups keep their original order.
    public func holdingOut(_ count: Int, seed: UInt64) throws -> FederatedDataset {
        guard count >= 0, count < clients.count else {
            throw FederatedError.invalidValue(
                field: "data.held_out_clients",
                message: "must be in 0..<\(clients.count) (the number of clients), got \(count)")
        }
        guard count > 0 else { return self }
        var stream = RandomStream(seed: seed, stream: [StreamPurpose.heldOut])
        let chosen = Set(stream.sampleWithoutReplacement(count, from: clients.count))
        let kept = clients.indices.filter { !chosen.contains($0) }.map { clients[$0] }
        let held = clients.indices.filter { chosen.contains($0) }.map { clients[$0] }
        var result = try FederatedDataset(name: name, clients: kept, heldOutClients: heldOutClients + held)
        result.vocabulary = vocabulary
        return result
    }

    /// Carves a validation part out of every client's training part (for clients that
    /// have none, e.g. Synthetic or LEAF data, which ship only train and test): a seeded,
    /// stratified `fraction` of each client's training samples, drawn from a stream named
    /// by `seed` and the client's position.
    public func carvingValidation(fraction: Double, seed: UInt64) throws -> FederatedDataset {
        try FederatedError.requireFraction(fraction, "data.validation_fraction")
        guard fraction > 0 else { return self }
        func carve(_ client: FederatedClient, _ index: Int, _ group: UInt64) throws -> FederatedClient {
            let (train, validation) = try FederatedError.wrappingDataErrors {
                try client.train.holdOut(fraction: fraction, seed: seed,
                                         stream: Self.splitStream(group: group, client: index))
            }
            return FederatedClient(id: client.id, train: train.renamed(client.id + "/train"),
                                   validation: validation.renamed(client.id + "/validation"), test: client.test)
        }
        let trained = try clients.enumerated().map { try carve($1, $0, 0) }
        let held = try heldOutClients.enumerated().map { try carve($1, $0, 1) }
        var result = try FederatedDataset(name: name, clients: trained, heldOutClients: held)
        result.vocabulary = vocabulary
        return result
    }

    /// The per-client split stream identity within CohortData's split streams.
    static func splitStream(group: UInt64, client: Int) -> UInt64 {
        StreamPurpose.clientSplit ^ (group << 40) ^ UInt64(client)
    }
}
