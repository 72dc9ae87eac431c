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

    func testAnUnknownOrIncompleteLineIsKeptAsOther() {
        guard case .other = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("round"))])) else { return XCTFail() }
        guard case .other = FederatedEvent(json: .object([(FederatedEvent.Key.event, .string("future"))])) else { return XCTFail() }
    }
}
