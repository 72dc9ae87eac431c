import CohortFiles
import CohortTune
import XCTest
@testable import CohortFederated

/// The journal's lines read back through the typed events with the values written.
final class FederatedEventTests: XCTestCase {
    func testAResultWrittenByTheRunnerReadsBack() {
        let written = ArmResult(arm: 2, rung: 1, rounds: 40, metric: 0.25, testAccuracy: 0.875, validationAccuracy: 0.75,
                                heldOutAccuracy: nil, tunedTestAccuracy: 0.9, tunedValidationAccuracy: nil, tunedHeldOutAccuracy: nil)
        let line: JSONValue = .object([(FederatedEvent.Key.event, .string("result"))] + ArmRunner.fields(written))
        guard case let .result(r) = FederatedEvent(json: line) else { return XCTFail("\(line)") }
        XCTAssertEqual([r.arm, r.rung, r.rounds], [2, 1, 40])
        XCTAssertEqual(r.metric, 0.25)
        XCTAssertEqual(r.testAccuracy, 0.875)
        XCTAssertEqual(r.validationAccuracy, 0.75)
        XCTAssertNil(r.heldOutAccuracy)
        XCTAssertEqual(r.tunedTestAccuracy, 0.9)
    }

    func testAnArmWithItsFedExChoicesReadsBack() throws {
        var settings = RoundSettings(rounds: 1, sampling: ClientSampling(clientsPerRound: 1), local: LocalHyperparameters(), seed: 1)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.03, 0.3])]), settings: .init())
        let line = RunEvent.arm(3, searchConfig: TrialConfig([]), settings: settings, time: 1.5)
        guard case let .arm(a) = FederatedEvent(json: line) else { return XCTFail("\(line)") }
        XCTAssertEqual(a.arm, 3)
        XCTAssertEqual(a.server.first?.key, "type")
        XCTAssertEqual(a.local.map(\.key), LocalHyperparameters.names)
        XCTAssertEqual(a.fedexSpace.map(\.name), ["learning_rate"])
        XCTAssertEqual(a.fedexSpace[0].choices.map { $0.map(\.value) }, [[.number(0.03)], [.number(0.3)]])
    }

    func testARoundWrittenByTheJournalReadsBack() throws {
        let space = try FedExSpace.grid([("learning_rate", [0.03, 0.3])])
        let fedex = try FedExDistribution(sizes: [2], settings: .init())
        let record = RoundRecord(round: 4, participants: RoundParticipants(round: 4, selected: [0, 2], stragglers: [], contributing: [0, 2]),
                                 trainLoss: 0.5, aggregatedWeight: 10, diverged: [], localSettings: [], validationLosses: [], fedexStep: nil)
        let evaluation = EvaluationRecord(afterRound: 5, test: EvaluationSums(lossSum: 30, correct: 7, count: 8),
                                          validation: EvaluationSums(lossSum: 2, correct: 3, count: 4), heldOut: EvaluationSums())
        let line = RunEvent.round(arm: 1, record: record, evaluation: evaluation, fedex: fedex, space: space, digest: 0xabc, time: 2.5)
        guard case let .round(r) = FederatedEvent(json: line) else { return XCTFail("\(line)") }
        XCTAssertEqual([r.arm, r.round], [1, 5])
        XCTAssertEqual(r.trainLoss, 0.5)
        XCTAssertEqual(r.testAccuracy, 0.875)
        XCTAssertEqual(r.testLoss, evaluation.test.meanLoss)
        XCTAssertEqual(r.validationAccuracy, 0.75)
        XCTAssertEqual(r.modelDigest, "0000000000000abc")
        XCTAssertEqual(r.time, 2.5)
        let state = try XCTUnwrap(r.fedex)
        XCTAssertEqual(state.entropy, fedex.entropy)
        XCTAssertEqual(state.probability, fedex.mostLikelyProbability)
        XCTAssertEqual(state.mostLikely.map(\.key), ["learning_rate"])

        // Not evaluated: the accuracies are written as null and read as nil.
        let bare = RunEvent.round(arm: 0, record: record, evaluation: nil, fedex: nil, space: nil, digest: 1, time: 3)
        guard case let .round(b) = FederatedEvent(json: bare) else { return XCTFail("\(bare)") }
        XCTAssertNil(b.testAccuracy)
        XCTAssertNil(b.testLoss)
        XCTAssertNil(b.validationAccuracy)
        XCTAssertNil(b.fedex)
    }

    func testAResultWrittenByTheJournalReadsBack() {
        let evaluation = EvaluationRecord(afterRound: 8, test: EvaluationSums(lossSum: 4, correct: 3, count: 4),
                                          validation: EvaluationSums(), heldOut: EvaluationSums(lossSum: 1, correct: 1, count: 2))
        let tuned = EvaluationRecord(afterRound: 8, test: EvaluationSums(lossSum: 2, correct: 4, count: 4),
                                     validation: EvaluationSums(), heldOut: EvaluationSums())
        let line = RunEvent.result(arm: 0, rung: 2, rounds: 8, metric: 0.125, evaluation: evaluation, tuned: tuned,
                                   configuration: LocalHyperparameters(), time: 9)
        guard case let .result(r) = FederatedEvent(json: line) else { return XCTFail("\(line)") }
        XCTAssertEqual([r.arm, r.rung, r.rounds], [0, 2, 8])
        XCTAssertEqual(r.metric, 0.125)
        XCTAssertEqual(r.testAccuracy, 0.75)
        XCTAssertNil(r.validationAccuracy)
        XCTAssertEqual(r.heldOutAccuracy, 0.5)
        XCTAssertEqual(r.tunedTestAccuracy, 1)
        XCTAssertNil(r.tunedHeldOutAccuracy)
        XCTAssertEqual(r.local.map(\.key), LocalHyperparameters.names)
    }

    func testAnOlderLineWithoutOptionalFieldsStillReads() {
        let start = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("start")), (FederatedEvent.Key.clients, .int(4))]))
        guard case let .start(s) = start else { return XCTFail() }
        XCTAssertEqual(s.clients, 4)
        XCTAssertNil(s.data)
        XCTAssertNil(s.ranks)
        guard case let .end(e) = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("end"))])) else { return XCTFail() }
        XCTAssertNil(e.arm)
        XCTAssertTrue(e.local.isEmpty)
    }

    func testAnUnknownOrIncompleteLineIsKeptAsOther() {
        guard case .other = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("round"))])) else { return XCTFail() }
        guard case .other = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("future"))])) else { return XCTFail() }
    }
}
