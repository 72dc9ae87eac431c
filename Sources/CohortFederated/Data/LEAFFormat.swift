import CohortData
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
/// (Shakespeare, Sent140) needs a vocabulary and is refused with a message that says so.
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

    /// The users of one file, in the order its `users` list gives them.
    public static func readFile(_ path: String) throws -> [UserSamples] {
        let data = try readData(path)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw FederatedError.badData(path: path, message: "is not valid JSON (\(jsonErrorSummary(error)))")
        }
        guard let object = root as? [String: Any] else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: the top level must be an object with users, num_samples and user_data")
        }
        guard let usersValue = object["users"] else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: it has no \"users\" list")
        }
        guard let users = usersValue as? [String] else {
            throw FederatedError.badData(path: path, message: "\"users\" must be a list of user names")
        }
        guard let userData = object["user_data"] as? [String: Any] else {
            throw FederatedError.badData(path: path, message: "is not a LEAF file: it has no \"user_data\" object")
        }
        var declaredCounts: [Int]?
        if let counts = object["num_samples"] {
            guard let list = counts as? [Any], let ints = wholeNumbers(list), ints.count == users.count else {
                throw FederatedError.badData(path: path, message: "\"num_samples\" must list one whole number per user (\(users.count) users)")
            }
            declaredCounts = ints
        }
        var seen = Set<String>()
        return try users.enumerated().map { position, user in
            guard seen.insert(user).inserted else {
                throw FederatedError.badData(path: path, message: "user \(user) is listed twice")
            }
            guard let entry = userData[user] else {
                throw FederatedError.badData(path: path, message: "user \(user) is listed in \"users\" but has no entry in \"user_data\"")
            }
            let samples = try readUser(entry, user: user, path: path)
            if let declared = declaredCounts?[position], declared != samples.count {
                throw FederatedError.badData(path: path, message: "user \(user): num_samples says \(declared), user_data holds \(samples.count) samples")
            }
            return samples
        }
    }

    /// The users of a file, or of every `.json` file of a directory (in name order).
    public static func readPath(_ path: String) throws -> [UserSamples] {
        let files = try jsonFiles(at: path)
        var users: [UserSamples] = []
        var origin: [String: String] = [:]
        for file in files {
            for user in try readFile(file) {
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
    public static func load(trainPath: String, testPath: String?, name: String = "leaf",
                            classCount: Int? = nil, sampleShape: [Int]? = nil) throws -> FederatedDataset {
        let train = try readPath(trainPath)
        guard !train.isEmpty else {
            throw FederatedError.badData(path: trainPath, message: "holds no users")
        }
        let test = try testPath.map(readPath) ?? []
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
        let classes = classCount ?? Int(largest) + 1
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
        return try FederatedDataset(name: name, clients: clients)
    }

    // MARK: Implementation

    private static func readUser(_ entry: Any, user: String, path: String) throws -> UserSamples {
        guard let fields = entry as? [String: Any] else {
            throw FederatedError.badData(path: path, message: "user \(user): user_data entry must be an object with \"x\" and \"y\"")
        }
        guard let xs = fields["x"] as? [Any], let ys = fields["y"] as? [Any] else {
            throw FederatedError.badData(path: path, message: "user \(user): user_data entry must have lists \"x\" and \"y\"")
        }
        guard xs.count == ys.count else {
            throw FederatedError.badData(path: path, message: "user \(user): \(xs.count) samples in x but \(ys.count) labels in y")
        }
        var labels: [Int32] = []
        labels.reserveCapacity(ys.count)
        for (i, y) in ys.enumerated() {
            if y is String {
                throw FederatedError.badData(path: path, message: "user \(user) sample \(i): label is text; text data (Shakespeare, Sent140) needs a vocabulary and is not read as numbers")
            }
            guard let value = wholeNumber(y), value >= 0, value <= Int(Int32.max) else {
                throw FederatedError.badData(path: path, message: "user \(user) sample \(i): label must be a whole number of at least 0")
            }
            labels.append(Int32(value))
        }
        var shape: [Int] = []
        var features: [Float] = []
        for (i, x) in xs.enumerated() {
            var sampleShape: [Int] = []
            let before = features.count
            guard appendNumbers(x, to: &features, shape: &sampleShape, depth: 0) else {
                let what = containsText(x) ? "is text; text data (Shakespeare, Sent140) needs a vocabulary and is not read as numbers"
                                           : "must be a number or a regularly nested list of numbers"
                throw FederatedError.badData(path: path, message: "user \(user) sample \(i): x \(what)")
            }
            if sampleShape.isEmpty { sampleShape = [1] }
            if i == 0 {
                shape = sampleShape
            } else if sampleShape != shape {
                throw FederatedError.badData(path: path, message: "user \(user) sample \(i): x has shape \(sampleShape), sample 0 has \(shape)")
            }
            guard features.count - before > 0 else {
                throw FederatedError.badData(path: path, message: "user \(user) sample \(i): x is empty")
            }
        }
        return UserSamples(id: user, sampleShape: shape, features: features, labels: labels)
    }

    /// Appends the numbers of a (nested) list, recording the shape on the way down;
    /// false for anything that is not a number or a rectangular list of numbers.
    private static func appendNumbers(_ value: Any, to out: inout [Float], shape: inout [Int], depth: Int) -> Bool {
        if let list = value as? [Any] {
            if shape.count == depth { shape.append(list.count) } else if shape[depth] != list.count { return false }
            for element in list where !appendNumbers(element, to: &out, shape: &shape, depth: depth + 1) { return false }
            return true
        }
        guard let number = number(value), number.isFinite else { return false }
        if shape.count > depth { return false }
        out.append(Float(number))
        return true
    }

    private static func containsText(_ value: Any) -> Bool {
        if value is String { return true }
        if let list = value as? [Any] { return list.contains(where: containsText) }
        return false
    }

    /// A JSON number; `true`/`false` also arrive as `NSNumber` (of C type `char`) and
    /// are refused.
    private static func number(_ value: Any) -> Double? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return n.doubleValue
    }

    private static func wholeNumber(_ value: Any) -> Int? {
        guard let d = number(value), d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    private static func wholeNumbers(_ list: [Any]) -> [Int]? {
        var out: [Int] = []
        for element in list {
            guard let n = wholeNumber(element), n >= 0 else { return nil }
            out.append(n)
        }
        return out
    }

    private static func readData(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FederatedError.badData(path: path, message: "no such file or directory")
        }
        guard !isDirectory.boolValue else {
            throw FederatedError.badData(path: path, message: "is a directory, expected a LEAF JSON file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FederatedError.badData(path: path, message: "cannot be read (no permission?)")
        }
        return data
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

    /// Foundation's JSON errors carry the useful part in their user info.
    private static func jsonErrorSummary(_ error: Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo["NSDebugDescription"] as? String { return detail }
        return ns.localizedDescription
    }
}

// MARK: Writing

extension LEAFFormat {
    /// Writes `federation` as LEAF JSON: `directory/train/data.json` with every client's
    /// training samples and `directory/test/data.json` with its test samples (training
    /// and held-out clients alike; validation parts are left out), so other tools train
    /// on exactly the data a config names. Values are written in their shortest exact
    /// form, so reading them back gives the same floats.
    public static func write(_ federation: FederatedDataset, to directory: String) throws {
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
                    text += (i > 0 ? ", [" : "[")
                    text += data.features[i * width ..< (i + 1) * width].map { "\($0)" }.joined(separator: ", ")
                    text += "]"
                }
                text += "], \"y\": [" + data.labels.map(String.init).joined(separator: ", ") + "]}"
            }
            text += "}}\n"
            let folder = directory + "/" + part
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/data.json"), options: .atomic)
            } catch {
                throw FederatedError.badData(path: folder + "/data.json", message: "cannot be written (\(error.localizedDescription))")
            }
        }
    }
}
