import CohortCluster
import CohortTensor
import CohortTune
import CohortTrain
import XCTest
@testable import CohortNAS

/// Supernet search data-parallel over in-process ranks: identical replicas,
/// reproducible runs, divergence caught, rank-count-free scores, the run directory.
final class SearchTests: XCTestCase {
    private func train(_ config: NASConfig, ranks: Int, perturbRank: Int? = nil) throws -> [SupernetReport] {
        let data = try NASData.search(config)
        return try LocalCommunicator.map(ranks: ranks) { comm -> SupernetReport in
            let search = try SupernetSearch(config: config, data: data, communicator: comm, recorder: nil)
            if comm.rank == perturbRank { search.trainer.model.parameters.flat[0] += 1e-3 }
            return try search.train()
        }
    }

    func testRanksHoldIdenticalWeightsEveryStep() throws {
        for strategy in NASConfig.Strategy.allCases {
            let config = try tinyConfig(strategy)
            let reports = try train(config, ranks: 3)
            XCTAssertEqual(Set(reports.map(\.digest)).count, 1, "\(strategy)")
            XCTAssertEqual(reports[0].steps, 6, "200 training samples / batch 32")
            XCTAssertEqual(reports[0].replicaChecks, 7, "every step and once at the end")
            if strategy != .rsws {
                XCTAssertEqual(Set(reports.map { $0.architectureDigest! }).count, 1)
                XCTAssertEqual(Set(reports.map { $0.derived! }).count, 1)
            }
        }
    }

    func testSameSeedAndRankCountRepeatBitForBit() throws {
        for strategy in NASConfig.Strategy.allCases {
            let config = try tinyConfig(strategy)
            let first = try train(config, ranks: 2)[0], second = try train(config, ranks: 2)[0]
            XCTAssertEqual(first.digest, second.digest, "\(strategy)")
            XCTAssertEqual(first.architectureWeights, second.architectureWeights, "\(strategy)")
            XCTAssertEqual(first.derived, second.derived)
            let other = try train(try tinyConfig(strategy, seed: 6), ranks: 2)[0]
            XCTAssertNotEqual(other.digest, first.digest, "\(strategy)")
        }
    }

    func testArchitectureWeightsMoveAndStayOnTheSimplex() throws {
        for strategy in [NASConfig.Strategy.gaea, .darts] {
            for singleLevel in [false, true] {
                let config = try tinyConfig(strategy, extra: "")
                var c = config
                c.gaea.singleLevel = singleLevel
                c.darts.singleLevel = singleLevel
                c.gaea.eta = 0.5
                let report = try train(c, ranks: 2)[0]
                let rows = try XCTUnwrap(report.architectureWeights)
                XCTAssertEqual(rows.count, 6)
                for row in rows {
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-9)
                    XCTAssertTrue(row.allSatisfy { $0 > 0 })
                }
                XCTAssertTrue(rows.flatMap { $0 }.contains { abs($0 - 0.2) > 1e-6 }, "\(strategy) single-level \(singleLevel): the weights moved")
            }
        }
    }

    func testDivergedRanksStopTheSearchEverywhere() throws {
        let config = try tinyConfig(.gaea)
        XCTAssertThrowsError(try train(config, ranks: 2, perturbRank: 1)) { error in
            guard let divergence = error as? ReplicaDivergence else { return XCTFail("\(error)") }
            XCTAssertEqual(divergence.step, 1)
            XCTAssertEqual(divergence.digests.count, 2)
            XCTAssertNotEqual(divergence.digests[0], divergence.digests[1])
            XCTAssertTrue(divergence.description.hasPrefix("ranks diverged: after step 1 their supernet and architecture weights differ (rank 0 "))
        }
    }

    func testRSWSSamplesTheSameArchitecturesOnEveryRank() {
        let a = (0..<50).map { SupernetSearch.sampledArchitecture(seed: 3, step: $0) }
        XCTAssertEqual(a, (0..<50).map { SupernetSearch.sampledArchitecture(seed: 3, step: $0) })
        XCTAssertGreaterThan(Set(a).count, 45)
        XCTAssertTrue(a.allSatisfy(\.isConnected))
    }

    func testEveryRankGetsEveryScore() throws {
        let config = try tinyConfig(.rsws)
        let data = try NASData.search(config)
        let cells = CandidateScoring.sampleDistinct(5, seed: 1, round: 0)
        func scores(ranks: Int) throws -> [[Double]] {
            try LocalCommunicator.map(ranks: ranks) { comm -> [Double] in
                let search = try SupernetSearch(config: config, data: data, communicator: comm, recorder: nil)
                _ = try search.train()
                let scoring = CandidateScoring(trainer: search.trainer, validation: data.validation, communicator: comm, seed: 1, batchSize: 64)
                return try scoring.scoreOnValidation(cells).flatMap { [$0.accuracy, $0.loss] }
            }
        }
        // Each rank scores a third of the units; the allgather hands all to everyone.
        let three = try scores(ranks: 3)
        XCTAssertEqual(Set(three).count, 1)
        XCTAssertEqual(three[0].count, 10)
        XCTAssertTrue(three[0].enumerated().allSatisfy { $0.offset % 2 == 1 || ($0.element >= 0 && $0.element <= 1) })
    }

    func testScoringIsExactlyTheSameOnOneRankAndOnSeveral() throws {
        let config = try tinyConfig(.rsws)
        let data = try NASData.search(config)
        let cells = CandidateScoring.sampleDistinct(4, seed: 2, round: 0)
        func scores(ranks: Int) throws -> [Double] {
            try LocalCommunicator.map(ranks: ranks) { comm -> [Double] in
                // The untrained supernet: identical weights whatever the rank count.
                let search = try SupernetSearch(config: config, data: data, communicator: comm, recorder: nil)
                let scoring = CandidateScoring(trainer: search.trainer, validation: data.validation, communicator: comm, seed: 1, batchSize: 48)
                return try scoring.scoreOnValidation(cells).flatMap { [$0.accuracy, $0.loss] }
            }[0]
        }
        XCTAssertEqual(try scores(ranks: 1), try scores(ranks: 3))
    }

    func testBatchSmallerThanTheRankCountIsRejected() throws {
        var config = try tinyConfig(.rsws)
        config.search.batchSize = 3
        XCTAssertThrowsError(try config.validate(ranks: 4)) {
            XCTAssertEqual("\($0)", "search.batch_size (3) is smaller than the number of ranks (4): every rank needs at least one sample of each batch")
        }
        XCTAssertNoThrow(try config.validate(ranks: 3))
    }
}
