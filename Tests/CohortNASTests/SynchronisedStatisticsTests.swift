import CohortCluster
import CohortTensor
import XCTest
@testable import CohortNAS

/// Synchronised batch statistics: a supernet search on 1, 2 and 4 ranks trains the same
/// weights up to float rounding; with per-rank statistics it does not.
final class SynchronisedStatisticsTests: XCTestCase {
    private func weights(_ strategy: NASConfig.Strategy, ranks: Int, sync: Bool) throws -> (supernet: [Float], architecture: [Double], derived: CellArchitecture?) {
        var config = try tinyConfig(strategy)
        config.search.syncBatchNorm = sync
        config.gaea.eta = 0.5
        let data = try NASData.search(config)
        let fixed = config
        return try LocalCommunicator.map(ranks: ranks) { comm in
            let search = try SupernetSearch(config: fixed, data: data, communicator: comm, recorder: nil)
            let report = try search.train()
            return (Array(search.trainer.model.parameters.flat), search.architecture?.learnedValues ?? [], report.derived)
        }[0]
    }

    private func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }

    func testRankCountsAgreeToRoundingWithSynchronisedStatistics() throws {
        for strategy in [NASConfig.Strategy.gaea, .rsws] {
            let one = try weights(strategy, ranks: 1, sync: true)
            XCTAssertEqual(one.supernet, try weights(strategy, ranks: 1, sync: false).supernet, "one rank: nothing to synchronise")
            for ranks in [2, 4] {
                let many = try weights(strategy, ranks: ranks, sync: true)
                let synced = largestDifference(one.supernet, many.supernet)
                XCTAssertLessThan(synced, 1e-4, "\(strategy) on \(ranks) ranks")
                for (a, b) in zip(one.architecture, many.architecture) { XCTAssertEqual(a, b, accuracy: 1e-5) }
                XCTAssertEqual(one.derived, many.derived)
                let perRank = largestDifference(one.supernet, try weights(strategy, ranks: ranks, sync: false).supernet)
                XCTAssertGreaterThan(perRank, 100 * Swift.max(synced, 1e-7), "\(strategy) on \(ranks) ranks: per-rank statistics differ")
            }
        }
    }
}
