import CohortFiles
import XCTest
@testable import CohortNAS

/// What the search writes reads back through the records `cohort report` uses.
final class RunFilesTests: XCTestCase {
    func testACandidateScoreReadsBack() {
        let cell = CellArchitecture(index: 1234)
        let score = CandidateScore(architecture: cell, round: 2, minibatchAccuracy: 0.625, minibatchLoss: 1.5,
                                   validationAccuracy: 0.75, validationLoss: 0.875)
        let read = NASRunFiles.Score(json: score.json)
        XCTAssertEqual(read.architecture, cell.nasBench201String)
        XCTAssertEqual(read.minibatchAccuracy, 0.625)
        XCTAssertEqual(read.validationAccuracy, 0.75)

        // Without minibatch scores (GAEA, DARTS) the field reads as nil; so does a missing one.
        let unsampled = CandidateScore(architecture: cell, round: 0, minibatchAccuracy: nil, minibatchLoss: nil,
                                       validationAccuracy: 0.5, validationLoss: 1)
        XCTAssertNil(NASRunFiles.Score(json: unsampled.json).minibatchAccuracy)
        XCTAssertNil(NASRunFiles.Score(json: .object([])).architecture)
    }

    func testAnEpochLineReadsBack() {
        let epoch = SupernetEpoch(epoch: 3, epochs: 4, loss: 0.25, accuracy: 0.5, steps: 10, seconds: 2, learningRate: 0.1,
                                  derived: CellArchitecture(index: 7))
        let read = NASRunFiles.EpochLine(json: epoch.json)
        XCTAssertEqual(read.epoch, 3)
        XCTAssertEqual(read.loss, 0.25)
        XCTAssertEqual(read.accuracy, 0.5)
    }
}
