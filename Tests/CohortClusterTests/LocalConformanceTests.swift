import CohortCluster
import CohortConformance
import XCTest

/// The conformance suite over the in-process backend, at even and odd rank counts.
final class LocalConformanceTests: XCTestCase {
    /// Lengths stop at 4,099 here (debug build); under mpirun the suite goes to 65,537.
    func testSuitePassesOnOneToFiveRanks() throws {
        for ranks in 1...5 {
            let failures = try LocalCommunicator.map(ranks: ranks) { comm in
                try ConformanceSuite.run(on: comm, largestLength: 4_099)
            }.flatMap { $0 }
            XCTAssertEqual(failures, [], "\(ranks) ranks")
        }
    }

    func testAFailingRankReleasesTheOthers() {
        struct Boom: Error {}
        XCTAssertThrowsError(try LocalCommunicator.run(ranks: 3) { comm in
            if comm.rank == 2 { throw Boom() }
            try comm.barrier()  // would wait forever without the abort
        }) { error in
            XCTAssertTrue(error is Boom, "the failing rank's own error is reported, got \(error)")
        }
    }

    /// A coordinator that only polls (iprobe, never a blocking receive) learns of a
    /// worker's failure too, instead of polling forever.
    func testAFailingRankStopsARankThatOnlyPolls() {
        struct Boom: Error {}
        XCTAssertThrowsError(try LocalCommunicator.run(ranks: 2) { comm in
            if comm.rank == 1 { throw Boom() }
            while try comm.iprobe(from: nil, tag: 7) == nil { usleep(1_000) }
        }) { error in
            XCTAssertTrue(error is Boom, "the failing rank's own error is reported, got \(error)")
        }
    }

    func testMeanOfIntegersIsRefused() throws {
        XCTAssertThrowsError(try LocalCommunicator.run(ranks: 2) { comm in
            var v: [Int32] = [1]
            try comm.allreduce(&v, op: .mean)
        }) { error in
            XCTAssertEqual(error as? CommunicatorError, .unsupported("mean reduction of integer type int32"))
        }
    }
}
