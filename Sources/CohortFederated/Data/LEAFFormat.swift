import CohortData
import CohortFiles
import Foundation

/// Reads federated data in LEAF's JSON format (Caldas et al., "LEAF: A Benchmark for
/// Federated Settings"):
///
/// ```json
/// {"users": ["u1", "u2"], "num_samples": [2, 1],
///  "user_data": {"u1": {"x": [[0.1, 0.2], [0.3, 0.4]], "y": [3, 1]},
///                "u2": {"x": [[0.5, 0.6]], "y": [0]}}}
/// ```
///
/// `x` holds one array of numbers per sample (nested arrays give the sample's shape,
/// e.g. FEMNIST's 784 pixels, or 28 rows of 28); `y` one whole-number class per sample.
/// LEAF ships a train and a test directory, each of one or more such files; a user's
/// training samples come from the first, its test samples from the second. Text data
/// (LEAF's Shakespeare: `x` a string of characters, `y` one character) is read when a
/// ``CharacterVocabulary`` is given: each character becomes its index, a sample of n
/// characters has shape [n], and a character outside the vocabulary (in the training
/// or the test files) is an error that names it. Without a vocabulary, text is refused
/// with a message that says so.
///
/// Every problem names the file, and the user and sample where it lies.
public enum LEAFFormat {
    /// One user's samples as read from a file.
    public struct UserSamples: Sendable, Equatable {
        public var id: String
        public var sampleShape: [Int]
        public var features: [Float]
        public var labels: [Int32]
        public var count: Int { labels.count }
    }

    // MARK: Reading files

    /// The users of one file, in the order its `users` list gives them, read by
    /// ``LEAFStreamReader`` straight into flat buffers.
    public static func readFile(_ path: String, vocabulary: CharacterVocabulary? = nil) throws -> [UserSamples] {
        try checkIsFile(path)
        let doc = try LEAFStreamReader.read(path: path, vocabulary: vocabulary)
        guard doc.isObject else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: the top level must be an object with users, num_samples and user_data")
        }
        guard doc.users != nil || doc.usersInvalid else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: it has no \"users\" list")
        }
        guard let users = doc.users else {
            throw FederatedError.badData(path: path, message: "\"users\" must be a list of user names")
        }
        guard let userData = doc.userData else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: it has no \"user_data\" object")
        }
        if doc.numSamplesInvalid || (doc.numSamples.map { $0.count != users.count } ?? false) {
            throw FederatedError.badData(path: path, message: "\"num_samples\" must list one whole number per user (\(users.count) users)")
        }
        var seen = Set<String>()
        return try users.enumerated().map { position, user in
            guard seen.insert(user).inserted else {
                throw FederatedError.badData(path: path, message: "user \(user) is listed twice")
            }
            guard let entry = userData[user] else {
                throw FederatedError.badData(path: path, message: "user \(user) is listed in \"users\" but has no entry in \"user_data\"")
            }
            switch entry {
            case let .invalid(message):
                throw FederatedError.badData(path: path, message: message)
            case let .samples(samples):
                if let declared = doc.numSamples?[position], declared != samples.count {
                    throw FederatedError.badData(path: path, message: "user \(user): num_samples says \(declared), user_data holds \(samples.count) samples")
                }
                return samples
            }
        }
    }

    /// The users of a file, or of every `.json` file of a directory (in name order).
    public static func readPath(_ path: String, vocabulary: CharacterVocabulary? = nil) throws -> [UserSamples] {
        let files = try jsonFiles(at: path)
        var users: [UserSamples] = []
        var origin: [String: String] = [:]
        for file in files {
            for user in try readFile(file, vocabulary: vocabulary) {
                if let first = origin[user.id] {
                    throw FederatedError.badData(path: file, message: "user \(user.id) also appears in \(first)")
                }
                origin[user.id] = file
                users.append(user)
            }
        }
        return users
    }

    // MARK: Building a federation

    /// A federation with one client per user of `trainPath` (a file or a directory),
    /// whose test samples come from the same user in `testPath` (empty if absent there).
    ///
    /// - Parameters:
    ///   - classCount: the number of classes (62 for FEMNIST); by default one more than
    ///     the largest label seen.
    ///   - sampleShape: a shape to view each sample as (e.g. `[1, 28, 28]`), of the same size.
    ///   - vocabulary: for text data; the class count is then its size.
    public static func load(trainPath: String, testPath: String?, name: String = "leaf",
                            classCount: Int? = nil, sampleShape: [Int]? = nil,
                            vocabulary: CharacterVocabulary? = nil) throws -> FederatedDataset {
        let train = try readPath(trainPath, vocabulary: vocabulary)
        guard !train.isEmpty else {
            throw FederatedError.badData(path: trainPath, message: "holds no users")
        }
        let test = try testPath.map { try readPath($0, vocabulary: vocabulary) } ?? []
        let trainIDs = Set(train.map(\.id))
        if let stranger = test.first(where: { !trainIDs.contains($0.id) }) {
            throw FederatedError.badData(path: testPath ?? "", message: "user \(stranger.id) has test samples but no training samples in \(trainPath)")
        }
        let shape = train[0].sampleShape
        for (user, path) in train.map({ ($0, trainPath) }) + test.map({ ($0, testPath ?? "") })
        where user.count > 0 && user.sampleShape.reduce(1, *) != shape.reduce(1, *) {
            throw FederatedError.badData(path: path, message: "user \(user.id) has samples of shape \(user.sampleShape), other users \(shape)")
        }
        let viewShape = sampleShape ?? shape
        guard viewShape.allSatisfy({ $0 > 0 }), viewShape.reduce(1, *) == shape.reduce(1, *) else {
            throw FederatedError.invalidValue(field: "data.sample_shape",
                                              message: "\(viewShape) does not hold the \(shape.reduce(1, *)) values of a sample")
        }
        let largest = (train + test).flatMap(\.labels).max() ?? 0
        let classes = classCount ?? vocabulary?.count ?? Int(largest) + 1
        guard Int(largest) < classes else {
            throw FederatedError.invalidValue(field: "data.classes", message: "is \(classes) but the data has label \(largest)")
        }
        let testByID = Dictionary(test.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let clients: [FederatedClient] = try train.map { user in
            let testUser = testByID[user.id]
            return FederatedClient(
                id: user.id,
                train: try dataset(user.features, user.labels, viewShape, classes, user.id + "/train"),
                validation: try dataset([], [], viewShape, classes, user.id + "/validation"),
                test: try dataset(testUser?.features ?? [], testUser?.labels ?? [], viewShape, classes, user.id + "/test"))
        }
        var federation = try FederatedDataset(name: name, clients: clients)
        federation.vocabulary = vocabulary
        return federation
    }

    // MARK: Implementation

    private static func checkIsFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FederatedError.badData(path: path, message: "no such file or directory")
        }
        guard !isDirectory.boolValue else {
            throw FederatedError.badData(path: path, message: "is a directory, expected a LEAF JSON file")
        }
    }

    private static func jsonFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FederatedError.badData(path: path, message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw FederatedError.badData(path: path, message: "cannot list the directory")
        }
        let files = names.filter { $0.hasSuffix(".json") }.sorted().map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        guard !files.isEmpty else {
            throw FederatedError.badData(path: path, message: "holds no .json files")
        }
        return files
    }

    private static func dataset(_ features: [Float], _ labels: [Int32], _ shape: [Int], _ classes: Int,
                                _ name: String) throws -> Dataset {
        try FederatedError.wrappingDataErrors {
            try Dataset(name: name, sampleShape: shape, features: features, labels: labels, classCount: classes)
        }
    }
}

// MARK: Writing

extension LEAFFormat {
    /// Writes `federation` as LEAF JSON: `directory/train/data.json` with every client's
    /// training samples and `directory/test/data.json` with its test samples (training
    /// and held-out clients alike; validation parts are left out), so other tools train
    /// on exactly the data a config names. Values are written in their shortest exact
    /// form, so reading them back gives the same floats; a federation of text (one with
    /// a vocabulary) is written as LEAF's Shakespeare is, `x` strings and `y` characters.
    public static func write(_ federation: FederatedDataset, to directory: String) throws {
        let vocabulary = federation.vocabulary
        func character(_ value: Float) -> String {
            guard let vocabulary, value >= 0, let k = Int(exactly: value), k < vocabulary.count else { return "" }
            return String(Character(vocabulary.characters[k]))
        }
        func quoted(_ text: String) -> String {
            var out = ""
            JSONValue.string(text).write(to: &out)
            return out
        }
        let clients = federation.clients + federation.heldOutClients
        for (part, select) in [("train", { (c: FederatedClient) in c.train }), ("test", { (c: FederatedClient) in c.test })] {
            var text = "{\"users\": ["
            text += clients.map { "\"\($0.id)\"" }.joined(separator: ", ")
            text += "], \"num_samples\": ["
            text += clients.map { String(select($0).count) }.joined(separator: ", ")
            text += "], \"user_data\": {"
            for (k, client) in clients.enumerated() {
                let data = select(client)
                let width = data.featureCount
                text += (k > 0 ? ", " : "") + "\"\(client.id)\": {\"x\": ["
                for i in 0 ..< data.count {
                    let sample = data.features[i * width ..< (i + 1) * width]
                    if vocabulary != nil {
                        text += (i > 0 ? ", " : "") + quoted(sample.map(character).joined())
                    } else {
                        text += (i > 0 ? ", [" : "[")
                        text += sample.map { "\($0)" }.joined(separator: ", ")
                        text += "]"
                    }
                }
                let labels = vocabulary != nil ? data.labels.map { quoted(character(Float($0))) } : data.labels.map(String.init)
                text += "], \"y\": [" + labels.joined(separator: ", ") + "]}"
            }
            text += "}}\n"
            let folder = directory + "/" + part
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                // Not Data.write: Foundation's restarts from the first byte after a write
                // cut short at 2 GiB (Linux's limit per call) and corrupts larger files.
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: folder + "/data.json"))
            } catch {
                throw FederatedError.badData(path: folder + "/data.json", message: "cannot be written (\(error.localizedDescription))")
            }
        }
    }
}
