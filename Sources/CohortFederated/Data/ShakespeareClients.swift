import CohortData
import CohortTensor

/// LEAF's Shakespeare next-character benchmark built from the plays: one client per
/// (play, speaking role), whose samples are the windows of its text, `sequenceLength`
/// characters in and the next character out.
///
/// As LEAF: a role's text is restricted to a fixed vocabulary (other characters become
/// spaces); a role with fewer than `minimumSamples` windows takes no part; each client's
/// windows are split in text order, the first `trainFraction` for training and the rest
/// for testing, where test windows start only after the last training target, so no
/// test input repeats text a training sample has seen. `clients`, when set, keeps a
/// seeded random choice of that many clients (LEAF's sampling of users), in their order.
public struct ShakespeareClients: Equatable, Sendable {
    public var directory: String
    /// Play names (file names without `.md`) to use; all when empty.
    public var plays: [String] = []
    public var sequenceLength = 80
    public var trainFraction = 0.8
    public var minimumSamples = 64
    public var clients: Int?
    public var vocabulary = CharacterVocabulary.leaf

    public init(directory: String) { self.directory = directory }

    /// Checks the numbers before anything is read or allocated.
    public func validate() throws {
        guard sequenceLength >= 1 && sequenceLength <= 100_000 else {
            throw FederatedError.invalidValue(field: "data.sequence_length", message: "must be in 1...100000, got \(sequenceLength)")
        }
        guard trainFraction > 0 && trainFraction < 1 else {
            throw FederatedError.invalidValue(field: "data.train_fraction", message: "must be between 0 and 1 (exclusive), got \(trainFraction)")
        }
        guard minimumSamples >= 1 && minimumSamples <= 1 << 30 else {
            throw FederatedError.invalidValue(field: "data.minimum_samples", message: "must be in 1...\(1 << 30), got \(minimumSamples)")
        }
        if let clients, clients < 1 {
            throw FederatedError.invalidValue(field: "data.clients", message: "must be at least 1, got \(clients)")
        }
    }

    /// Reads the plays and cuts the clients (every rank does, identically).
    public func build(seed: UInt64) throws -> FederatedDataset {
        try validate()
        let scripts = try FederatedError.wrappingDataErrors { () throws -> [PlayScript] in
            let available = try PlayScript.files(in: directory).map(\.name)
            if let unknown = plays.first(where: { !available.contains($0) }) {
                throw FederatedError.invalidValue(
                    field: "data.plays", message: "no play '\(unknown)' in \(directory) (there: \(available.sorted().joined(separator: ", ")))")
            }
            return try PlayScript.readDirectory(directory, only: plays)
        }
        var roles: [(id: String, text: [Int32])] = []
        for script in scripts {
            for role in script.roles {
                let text = try FederatedError.wrappingDataErrors {
                    try vocabulary.encode(vocabulary.restricting(role.text), what: "\(script.name) \(role.name)")
                }
                guard text.count - sequenceLength >= minimumSamples else { continue }
                roles.append((Self.clientID(play: script.name, role: role.name), text))
            }
        }
        guard !roles.isEmpty else {
            throw FederatedError.unsatisfiable("Shakespeare: no role in \(directory) has \(minimumSamples) samples of \(sequenceLength) characters")
        }
        if let clients, clients < roles.count {
            var stream = RandomStream(seed: seed, stream: [StreamPurpose.clientChoice])
            let kept = Set(stream.sampleWithoutReplacement(clients, from: roles.count))
            roles = roles.indices.filter(kept.contains).map { roles[$0] }
        }
        var seen = Set<String>()
        let made: [FederatedClient] = try roles.compactMap { id, text in
            guard seen.insert(id).inserted else { return nil }   // two roles that differ only in punctuation
            let windows = text.count - sequenceLength
            let trainCount = max(1, Int(trainFraction * Double(windows)))
            let test = min(trainCount + sequenceLength, windows) ..< windows
            return FederatedClient(id: id, train: try samples(text, 0 ..< trainCount, id + "/train"),
                                   validation: try samples(text, 0 ..< 0, id + "/validation"),
                                   test: try samples(text, test, id + "/test"))
        }
        var federation = try FederatedDataset(name: "shakespeare", clients: made)
        federation.vocabulary = vocabulary
        return federation
    }

    /// Windows `range` of `text`: window i is characters i..<i+L in, character i+L out.
    private func samples(_ text: [Int32], _ range: Range<Int>, _ name: String) throws -> Dataset {
        var features: [Float] = [], labels: [Int32] = []
        features.reserveCapacity(range.count * sequenceLength)
        for i in range {
            for k in i ..< i + sequenceLength { features.append(Float(text[k])) }
            labels.append(text[i + sequenceLength])
        }
        return try FederatedError.wrappingDataErrors {
            try Dataset(name: name, sampleShape: [sequenceLength], features: features, labels: labels,
                        classCount: vocabulary.count, classNames: vocabulary.characters.map { String(Character($0)) })
        }
    }

    /// `play/ROLE`, with anything but letters and digits in the role written `_`.
    static func clientID(play: String, role: String) -> String {
        let safe = String(role.unicodeScalars.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) ? Character($0) : "_" })
        return play + "/" + safe
    }
}
