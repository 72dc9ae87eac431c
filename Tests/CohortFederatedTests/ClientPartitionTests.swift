import CohortData
import XCTest
@testable import CohortFederated

final class ClientPartitionTests: XCTestCase {
    /// 1,000 samples, 10 balanced classes, labels in blocks of 100.
    let labels: [Int32] = (0 ..< 1000).map { Int32($0 / 100) }

    private func assertCoversEachIndexOnce(_ parts: [[Int]], count: Int, file: StaticString = #filePath, line: UInt = #line) {
        let all = parts.flatMap { $0 }
        XCTAssertEqual(all.count, count, file: file, line: line)
        XCTAssertEqual(Set(all).count, count, file: file, line: line)
        for part in parts { XCTAssertEqual(part, part.sorted(), file: file, line: line) }
    }

    func testIIDGivesNearEqualRandomParts() throws {
        let parts = try ClientPartition.assign(labels: labels, classCount: 10, clients: 7, scheme: .iid, seed: 1)
        assertCoversEachIndexOnce(parts, count: 1000)
        XCTAssertEqual(parts.map(\.count), [143, 143, 143, 143, 143, 143, 142])
        // Random, not contiguous: a part of 143 samples spans many classes.
        XCTAssertGreaterThan(Set(parts[0].map { labels[$0] }).count, 7)
    }

    func testDirichletCoversEverythingAndSkewsWithSmallAlpha() throws {
        func meanClassesPerClient(_ alpha: Double) throws -> Double {
            let parts = try ClientPartition.assign(labels: labels, classCount: 10, clients: 20,
                                                   scheme: .dirichlet(alpha: alpha, minimumSamples: 0), seed: 3)
            assertCoversEachIndexOnce(parts, count: 1000)
            // Classes holding at least 5% of a client's samples.
            let counts = parts.map { part -> Int in
                var perClass = [Int](repeating: 0, count: 10)
                for i in part { perClass[Int(labels[i])] += 1 }
                return perClass.filter { Double($0) >= 0.05 * Double(max(part.count, 1)) }.count
            }
            return Double(counts.reduce(0, +)) / 20
        }
        let skewed = try meanClassesPerClient(0.1)
        let mixed = try meanClassesPerClient(100)
        XCTAssertLessThan(skewed, 4.5)
        XCTAssertGreaterThan(mixed, 9)
    }

    func testDirichletRedrawsUntilEveryClientHasTheMinimum() throws {
        let parts = try ClientPartition.assign(labels: labels, classCount: 10, clients: 20,
                                               scheme: .dirichlet(alpha: 0.5, minimumSamples: 20), seed: 4)
        XCTAssertTrue(parts.allSatisfy { $0.count >= 20 })
        assertFederatedError("Dirichlet(0.01) over 50 clients gave some client fewer than 19 samples") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 50,
                                       scheme: .dirichlet(alpha: 0.01, minimumSamples: 19), seed: 4)
        }
    }

    func testShardsGiveEachClientItsShardsOfSortedLabels() throws {
        let parts = try ClientPartition.assign(labels: labels, classCount: 10, clients: 10,
                                               scheme: .shards(perClient: 2), seed: 5)
        assertCoversEachIndexOnce(parts, count: 1000)
        XCTAssertTrue(parts.allSatisfy { $0.count == 100 }, "20 shards of 50")
        // A shard of 50 sorted samples lies inside one class block of 100.
        for part in parts { XCTAssertLessThanOrEqual(Set(part.map { labels[$0] }).count, 2) }
        XCTAssertGreaterThan(parts.filter { Set($0.map { labels[$0] }).count == 2 }.count, 3)
    }

    func testPartitionsAreSeeded() throws {
        for scheme in [PartitionScheme.iid, .dirichlet(alpha: 0.5, minimumSamples: 1), .shards(perClient: 2)] {
            let a = try ClientPartition.assign(labels: labels, classCount: 10, clients: 10, scheme: scheme, seed: 9)
            let b = try ClientPartition.assign(labels: labels, classCount: 10, clients: 10, scheme: scheme, seed: 9)
            let c = try ClientPartition.assign(labels: labels, classCount: 10, clients: 10, scheme: scheme, seed: 10)
            XCTAssertEqual(a, b, scheme.name)
            XCTAssertNotEqual(a, c, scheme.name)
        }
    }

    func testBadPartitionRequestsEndInOneLine() {
        assertFederatedError("data.partition.alpha: must be a positive number, got 0.0") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 10,
                                       scheme: .dirichlet(alpha: 0, minimumSamples: 1), seed: 0)
        }
        assertFederatedError("data.partition.alpha: must be a positive number, got -0.5") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 10,
                                       scheme: .dirichlet(alpha: -0.5, minimumSamples: 1), seed: 0)
        }
        assertFederatedError("data.clients: 2000 clients cannot share 1000 samples") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 2000, scheme: .iid, seed: 0)
        }
        assertFederatedError("data.clients: must be at least 1") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 0, scheme: .iid, seed: 0)
        }
        assertFederatedError("cannot be cut from 1000 samples") {
            try ClientPartition.assign(labels: labels, classCount: 10, clients: 600, scheme: .shards(perClient: 2), seed: 0)
        }
    }

    // MARK: Federations from a centralized data set

    func testFederationSplitsEveryClientAndHoldsOutClients() throws {
        let source = try indexedDataset(labels: labels, classCount: 10)
        let federation = try FederatedDataset.partitioning(
            source, clients: 10, scheme: .iid, validationFraction: 0.1, testFraction: 0.2, heldOutClients: 2, seed: 6)
        XCTAssertEqual(federation.clients.count, 8)
        XCTAssertEqual(federation.heldOutClients.count, 2)
        XCTAssertEqual(federation.name, "indexed/iidx10")
        var seen: [Float] = []
        for client in federation.clients + federation.heldOutClients {
            XCTAssertEqual(client.train.count, 70)
            XCTAssertEqual(client.validation.count, 10)
            XCTAssertEqual(client.test.count, 20)
            XCTAssertTrue(client.id.hasPrefix("client-000"))
            for part in [client.train, client.validation, client.test] { seen += part.features }
        }
        XCTAssertEqual(Set(seen), Set((0 ..< 1000).map(Float.init)), "every sample in exactly one place")
        XCTAssertEqual(seen.count, 1000)
        XCTAssertEqual(federation.trainSampleCount, 560)
        XCTAssertEqual(federation.testSampleCount, 160)
        let again = try FederatedDataset.partitioning(
            source, clients: 10, scheme: .iid, validationFraction: 0.1, testFraction: 0.2, heldOutClients: 2, seed: 6)
        XCTAssertEqual(federation, again)
    }

    func testCarvingValidationFromTrainingParts() throws {
        let federation = try SyntheticFedProx(alpha: 1, beta: 1, users: 4).generate(seed: 2)
        let carved = try federation.carvingValidation(fraction: 0.2, seed: 2)
        for (before, after) in zip(federation.clients, carved.clients) {
            XCTAssertEqual(after.train.count + after.validation.count, before.train.count)
            XCTAssertEqual(after.validation.count, Int((Double(before.train.count) * 0.2).rounded()))
            XCTAssertEqual(after.test, before.test)
        }
        assertFederatedError("data.validation_fraction: must be in [0, 1), got 1.0") {
            try federation.carvingValidation(fraction: 1, seed: 2)
        }
    }

    func testHoldingOutEveryClientIsRefused() throws {
        let federation = try SyntheticFedProx(alpha: 1, beta: 1, users: 3).generate(seed: 2)
        assertFederatedError("data.held_out_clients: must be in 0..<3") { try federation.holdingOut(3, seed: 1) }
    }
}
