import CohortData
import XCTest
@testable import CohortFederated

final class LEAFFormatTests: XCTestCase {
    let trainJSON = """
    {"users": ["alice", "bob"], "num_samples": [2, 1],
     "user_data": {"alice": {"x": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "y": [3, 1]},
                   "bob": {"x": [[1, 2, 3]], "y": [0]}}}
    """
    let testJSON = """
    {"users": ["bob"], "num_samples": [1], "user_data": {"bob": {"x": [[7, 8, 9]], "y": [2.0]}}}
    """

    func testReadsUsersSamplesAndLabels() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "train.json", trainJSON)
        let users = try LEAFFormat.readFile(path)
        XCTAssertEqual(users.map(\.id), ["alice", "bob"])
        XCTAssertEqual(users[0].sampleShape, [3])
        XCTAssertEqual(users[0].features, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        XCTAssertEqual(users[0].labels, [3, 1])
        XCTAssertEqual(users[1].features, [1, 2, 3])
    }

    func testBuildsAFederationFromTrainAndTestParts() throws {
        let dir = try makeTemporaryDirectory(self)
        let train = try writeFile(dir, "train.json", trainJSON)
        let test = try writeFile(dir, "test.json", testJSON)
        let federation = try LEAFFormat.load(trainPath: train, testPath: test, name: "tiny")
        XCTAssertEqual(federation.clients.map(\.id), ["alice", "bob"])
        XCTAssertEqual(federation.classCount, 4, "largest label 3")
        XCTAssertEqual(federation.clients[0].test.count, 0)
        XCTAssertEqual(federation.clients[1].test.labels, [2])
        XCTAssertEqual(federation.clients[1].test.features, [7, 8, 9])
        let wider = try LEAFFormat.load(trainPath: train, testPath: nil, classCount: 62, sampleShape: [1, 3])
        XCTAssertEqual(wider.classCount, 62)
        XCTAssertEqual(wider.sampleShape, [1, 3])
    }

    func testReadsEveryJSONFileOfADirectoryInNameOrder() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFile(dir, "b.json", #"{"users": ["u2"], "num_samples": [1], "user_data": {"u2": {"x": [[[1, 2], [3, 4]]], "y": [1]}}}"#)
        try writeFile(dir, "a.json", #"{"users": ["u1"], "num_samples": [1], "user_data": {"u1": {"x": [[[5, 6], [7, 8]]], "y": [0]}}}"#)
        try writeFile(dir, "notes.txt", "ignored")
        let users = try LEAFFormat.readPath(dir)
        XCTAssertEqual(users.map(\.id), ["u1", "u2"])
        XCTAssertEqual(users[0].sampleShape, [2, 2], "nested lists give the sample's shape")
        XCTAssertEqual(users[1].features, [1, 2, 3, 4])
    }

    // MARK: Errors: one line, naming the file, the user and the sample

    private func error(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "bad.json", json)
        return federatedErrorMessage({ try LEAFFormat.readFile(path) }, file: file, line: line)
    }

    func testMissingAndUnreadableFiles() throws {
        assertFederatedError("/no/such/leaf.json: no such file or directory") {
            try LEAFFormat.load(trainPath: "/no/such/leaf.json", testPath: nil)
        }
        let dir = try makeTemporaryDirectory(self)
        assertFederatedError("holds no .json files") { try LEAFFormat.readPath(dir) }
        assertFederatedError("is a directory, expected a LEAF JSON file") { try LEAFFormat.readFile(dir) }
    }

    func testMalformedJSON() throws {
        XCTAssertTrue(try error(#"{"users": ["a"], "#).contains("bad.json: is not valid JSON"))
        XCTAssertTrue(try error("[1, 2]").contains("the top level must be an object"))
        XCTAssertTrue(try error(#"{"user_data": {}}"#).contains(#"it has no "users" list"#))
        XCTAssertTrue(try error(#"{"users": "a", "user_data": {}}"#).contains(#""users" must be a list of user names"#))
        XCTAssertTrue(try error(#"{"users": ["a"]}"#).contains(#"it has no "user_data" object"#))
    }

    func testInconsistentUsers() throws {
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {}}"#)
            .contains(#"user a is listed in "users" but has no entry in "user_data""#))
        XCTAssertTrue(try error(#"{"users": ["a"], "num_samples": [2], "user_data": {"a": {"x": [[1]], "y": [0]}}}"#)
            .contains("user a: num_samples says 2, user_data holds 1 samples"))
        XCTAssertTrue(try error(#"{"users": ["a"], "num_samples": [1, 2], "user_data": {"a": {"x": [[1]], "y": [0]}}}"#)
            .contains(#""num_samples" must list one whole number per user (1 users)"#))
        XCTAssertTrue(try error(#"{"users": ["a", "a"], "user_data": {"a": {"x": [[1]], "y": [0]}}}"#)
            .contains("user a is listed twice"))
    }

    func testBadSamples() throws {
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[1], [2]], "y": [0]}}}"#)
            .contains("user a: 2 samples in x but 1 labels in y"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[1, 2], [3]], "y": [0, 1]}}}"#)
            .contains("user a sample 1: x has shape [1], sample 0 has [2]"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[1, true]], "y": [0]}}}"#)
            .contains("user a sample 0: x must be a number or a regularly nested list of numbers"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": ["to be or not"], "y": ["t"]}}}"#)
            .contains("label is text; text data (Shakespeare, Sent140) needs a vocabulary"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[1]], "y": [-1]}}}"#)
            .contains("user a sample 0: label must be a whole number of at least 0"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[1]], "y": [0.5]}}}"#)
            .contains("label must be a whole number"))
        XCTAssertTrue(try error(#"{"users": ["a"], "user_data": {"a": {"x": [[]], "y": [0]}}}"#)
            .contains("user a sample 0: x is empty"))
    }

    func testUsersThatDoNotMatchAcrossFilesAndParts() throws {
        let dir = try makeTemporaryDirectory(self)
        let train = try writeFile(dir, "train.json", trainJSON)
        let stranger = try writeFile(dir, "test.json", #"{"users": ["carol"], "user_data": {"carol": {"x": [[1, 2, 3]], "y": [0]}}}"#)
        assertFederatedError("user carol has test samples but no training samples") {
            try LEAFFormat.load(trainPath: train, testPath: stranger)
        }
        let narrow = try writeFile(dir, "narrow.json", #"{"users": ["bob"], "user_data": {"bob": {"x": [[1, 2]], "y": [0]}}}"#)
        assertFederatedError("user bob has samples of shape [2], other users [3]") {
            try LEAFFormat.load(trainPath: train, testPath: narrow)
        }
        assertFederatedError("data.classes: is 2 but the data has label 3") {
            try LEAFFormat.load(trainPath: train, testPath: nil, classCount: 2)
        }
        assertFederatedError("data.sample_shape: [2, 2] does not hold the 3 values of a sample") {
            try LEAFFormat.load(trainPath: train, testPath: nil, sampleShape: [2, 2])
        }
        let sub = dir + "/parts"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try writeFile(sub, "1.json", trainJSON)
        try writeFile(sub, "2.json", trainJSON)
        assertFederatedError("user alice also appears in \(sub)/1.json") { try LEAFFormat.readPath(sub) }
    }
}

final class LEAFWriteTests: XCTestCase {
    func testWrittenFederationReadsBackExactly() throws {
        let dir = try makeTemporaryDirectory(self)
        let federation = try SyntheticFedProx(alpha: 1, beta: 1, users: 4).generate(seed: 3)
        try LEAFFormat.write(federation, to: dir)
        let back = try LEAFFormat.load(trainPath: dir + "/train", testPath: dir + "/test", name: federation.name, classCount: 10)
        XCTAssertEqual(back.clients.map(\.id), federation.clients.map(\.id))
        for (a, b) in zip(back.clients, federation.clients) {
            XCTAssertEqual(a.train.features, b.train.features, "every float exactly")
            XCTAssertEqual(a.train.labels, b.train.labels)
            XCTAssertEqual(a.test.features, b.test.features)
            XCTAssertEqual(a.test.labels, b.test.labels)
        }
    }
}
