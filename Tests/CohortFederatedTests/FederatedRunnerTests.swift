import CohortFiles
import CohortCluster
import CohortTune
import Foundation
import XCTest
@testable import CohortFederated

final class FederatedRunnerTests: XCTestCase {
    /// The catalog of these tests: the hand-trainable centroid model.
    let catalog = FederatedModelCatalog([("centroid", { _ in CentroidFactory() })])

    struct CentroidFactory: FederatedModelFactory {
        var name: String { "centroid" }
        func makeModel(sampleShape: [Int], classCount: Int) throws -> FederatedModel {
            CentroidModel(width: sampleShape.reduce(1, *), classCount: classCount)
        }
    }

    let baseConfig = """
    name: tiny
    seed: 4
    rounds: 6
    data: {source: synthetic, alpha: 1, beta: 1, users: 8, dimension: 5, classes: 3, validation_fraction: 0.2}
    model: {type: centroid}
    sampling: {clients_per_round: 3}
    local: {learning_rate: 0.2, epochs: 2, batch_size: 16}
    evaluation: {every: 2}
    """

    private func run(_ text: String? = nil, in directory: String, ranks: Int = 2, resume: Bool = false,
                     roundLimit: Int? = nil) throws -> FedOutcome {
        var configPath: String?
        if let text {
            configPath = directory + ".yaml"
            try Data(text.utf8).write(to: URL(fileURLWithPath: configPath!))
        }
        let options = FedOptions(configPath: configPath, out: directory, resume: resume, syncJournal: false, roundLimit: roundLimit)
        let catalog = self.catalog
        let outcomes = try LocalCommunicator.map(ranks: ranks) { comm in
            try FederatedRunner.run(options, communicator: comm, catalog: catalog)
        }
        for o in outcomes { XCTAssertEqual(o.lastGlobalModel, outcomes[0].lastGlobalModel, "every rank holds the same model") }
        return outcomes[0]
    }

    private func events(_ directory: String) throws -> [JSONValue] {
        try RunJournal.read(url: RunDirectory(path: directory).journalURL)
    }

    /// Journal lines without their times, which differ between runs.
    private func timeless(_ events: [JSONValue]) -> [String] {
        events.map { event in
            guard let members = event.objectMembers else { return event.description }
            return JSONValue.object(members.filter { $0.key != "time" }).description
        }
    }

    // MARK: A single run

    func testRunWritesJournalCheckpointAndSummary() throws {
        let dir = try makeTemporaryDirectory(self) + "/run"
        let outcome = try run(baseConfig, in: dir)
        XCTAssertTrue(outcome.finished)
        XCTAssertEqual(outcome.results.count, 1)
        let journal = try events(dir)
        XCTAssertEqual(journal.map { $0["event"]!.stringValue! }, ["start", "arm"] + Array(repeating: "round", count: 6) + ["result", "end"])
        XCTAssertEqual(journal[0]["clients"], .int(8))
        let rounds = journal.filter { $0["event"]?.stringValue == "round" }
        XCTAssertEqual(rounds.map { $0["round"]!.intValue! }, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(rounds.map { $0["test_accuracy"]!.isNull }, [true, false, true, false, true, false], "evaluated every 2 rounds")
        XCTAssertEqual(rounds[0]["sampled"]?.arrayValue?.count, 3)
        XCTAssertEqual(rounds[0].objectMembers?.first?.key, "event")
        XCTAssertNotNil(rounds[0]["train_loss"]?.doubleValue)
        XCTAssertEqual(rounds[5]["test_accuracy"]?.doubleValue, outcome.best?.testAccuracy)

        let checkpoint = try RoundCheckpoint.read(from: RunDirectory(path: dir).checkpoint(arm: 0), settings: .fedAvg)
        XCTAssertEqual(checkpoint.state.completedRounds, 6)
        XCTAssertEqual(checkpoint.state.global, outcome.lastGlobalModel)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/summary.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/config.yaml"))
    }

    func testStoppedThenResumedEqualsUninterrupted() throws {
        let root = try makeTemporaryDirectory(self)
        let whole = try run(baseConfig, in: root + "/whole", ranks: 3)
        let first = try run(baseConfig, in: root + "/parts", ranks: 3, roundLimit: 4)
        XCTAssertFalse(first.finished)
        XCTAssertEqual(try events(root + "/parts").filter { $0["event"]?.stringValue == "round" }.count, 4)
        let second = try run(in: root + "/parts", ranks: 3, resume: true)
        XCTAssertTrue(second.finished)
        XCTAssertEqual(second.lastGlobalModel, whole.lastGlobalModel, "bit for bit")
        XCTAssertEqual(timeless(try events(root + "/parts")), timeless(try events(root + "/whole")))
        let a = try Data(contentsOf: RunDirectory(path: root + "/parts").checkpoint(arm: 0))
        let b = try Data(contentsOf: RunDirectory(path: root + "/whole").checkpoint(arm: 0))
        XCTAssertEqual(a, b)
    }

    func testJournalLinesPastTheCheckpointAreRunAgain() throws {
        // A kill after a round's line but before its checkpoint: the line is dropped and
        // the round re-run, identically.
        let root = try makeTemporaryDirectory(self)
        let whole = try run(baseConfig, in: root + "/whole")
        _ = try run(baseConfig, in: root + "/torn", roundLimit: 3)
        let journal = RunDirectory(path: root + "/torn").journalURL
        let wholeEvents = try events(root + "/whole")
        let fourth = wholeEvents.first { $0["event"]?.stringValue == "round" && $0["round"]?.intValue == 4 }!
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((fourth.description + "\n" + "{\"event\":\"round\",\"ar").utf8))
        try handle.close()
        let resumed = try run(in: root + "/torn", resume: true)
        XCTAssertEqual(resumed.lastGlobalModel, whole.lastGlobalModel)
        XCTAssertEqual(timeless(try events(root + "/torn")), timeless(wholeEvents))
    }

    func testResumingAFinishedRunReportsItAgain() throws {
        let dir = try makeTemporaryDirectory(self) + "/done"
        let first = try run(baseConfig, in: dir)
        let again = try run(in: dir, resume: true)
        XCTAssertTrue(again.finished)
        XCTAssertEqual(again.best, first.best)
        XCTAssertEqual(try events(dir).count, 10, "nothing appended")
    }

    func testFineTunedScoresReachTheJournalAndDecideTheMetric() throws {
        let dir = try makeTemporaryDirectory(self) + "/tuned"
        let text = baseConfig.replacingOccurrences(of: "evaluation: {every: 2}", with: "evaluation: {every: 2, fine_tune: true}")
        let outcome = try run(text, in: dir)
        let best = try XCTUnwrap(outcome.best)
        let tunedValidation = try XCTUnwrap(best.tunedValidationAccuracy)
        XCTAssertNotNil(best.tunedTestAccuracy)
        XCTAssertEqual(best.metric, 1 - tunedValidation, accuracy: 1e-12)
        let result = try XCTUnwrap(try events(dir).first { $0["event"]?.stringValue == "result" })
        XCTAssertEqual(result["tuned_test_accuracy"]?.doubleValue, best.tunedTestAccuracy)
        XCTAssertEqual(result["local"]?["learning_rate"]?.doubleValue, 0.2)
        // A resumed finished run reports the tuned scores again.
        XCTAssertEqual(try run(in: dir, resume: true).best, best)
    }

    // MARK: Searches over arms

    func testSuccessiveHalvingOverArmsWithFedEx() throws {
        let text = baseConfig.replacingOccurrences(of: "evaluation: {every: 2}", with: "evaluation: {every: 3}") + """

        fedex:
          grid: {learning_rate: [0.05, 0.5], epochs: [1, 2]}
        search:
          type: sha
          arms: 9
          eta: 3
          min_rounds: 2
          space:
            server.learning_rate: {type: loguniform, low: 0.3, high: 1.0}
        """
        let root = try makeTemporaryDirectory(self)
        let outcome = try run(text, in: root + "/sha")
        // Successive halving opens brackets of eta^(rungs - 1) = 3 arms until 9 have
        // started: in each, 3 arms run 2 rounds and the best goes on to 6.
        XCTAssertEqual(outcome.results.count, 12)
        XCTAssertEqual(outcome.results.filter { $0.rounds == 2 }.count, 9)
        let promoted = outcome.results.filter { $0.rounds == 6 }
        for bracket in 0 ..< 3 {
            let arms = (3 * bracket ..< 3 * bracket + 3)
            let rungZero = outcome.results.filter { $0.rung == 0 && arms.contains($0.arm) }
            let best = rungZero.min { ($0.metric, $0.arm) < ($1.metric, $1.arm) }!
            XCTAssertEqual(promoted.filter { arms.contains($0.arm) }.map(\.arm), [best.arm], "bracket \(bracket)")
        }
        XCTAssertEqual(outcome.best?.arm, promoted.min { ($0.metric, $0.arm) < ($1.metric, $1.arm) }?.arm)
        let journal = try events(root + "/sha")
        XCTAssertEqual(journal.filter { $0["event"]?.stringValue == "arm" }.count, 9)
        XCTAssertEqual(journal.filter { $0["event"]?.stringValue == "round" }.count, 9 * 2 + 3 * 4)
        XCTAssertNotNil(journal.first { $0["event"]?.stringValue == "round" }?["fedex"]?["most_likely"])

        // Stopped in the middle of a promoted arm, then resumed: the same search.
        _ = try run(text, in: root + "/parts", roundLimit: 23)
        let resumed = try run(in: root + "/parts", resume: true)
        XCTAssertEqual(resumed.results, outcome.results)
        XCTAssertEqual(timeless(try events(root + "/parts")), timeless(journal))
    }

    /// `arm_score: training_rounds`: an arm's metric is its last round's clients' error
    /// after local training (FedEx's refine trace, no extra evaluation), and the best arm
    /// is the best score of any rung.
    func testArmsScoredByTheirTrainingRounds() throws {
        let text = baseConfig + """

        fedex:
          grid: {learning_rate: [0.05, 0.5], epochs: [1, 2]}
        search:
          type: sha
          arms: 9
          eta: 3
          min_rounds: 2
          arm_score: training_rounds
          space:
            server.learning_rate: {type: loguniform, low: 0.3, high: 1.0}
        """
        let root = try makeTemporaryDirectory(self)
        let outcome = try run(text, in: root + "/refine")
        XCTAssertEqual(outcome.results.count, 12)
        XCTAssertEqual(outcome.best?.arm, outcome.results.min { ($0.metric, $0.arm) < ($1.metric, $1.arm) }?.arm)
        XCTAssertTrue(outcome.results.allSatisfy { (0 ... 1).contains($0.metric) })
        XCTAssertTrue(outcome.results.contains { $0.metric != 1 - $0.validationAccuracy! }, "not the pooled evaluation")
        // The metric is the arm's FedEx refine trace at its last round: the weighted mean
        // validation error FedEx's update saw there.
        let journal = try events(root + "/refine")
        for result in outcome.results {
            let last = try XCTUnwrap(journal.last { $0["event"]?.stringValue == "round" && $0["arm"]?.intValue == result.arm
                && $0["round"]?.intValue == result.rounds })
            let refine = try XCTUnwrap(last["fedex"]?["mean_validation_loss"]?.doubleValue)
            XCTAssertEqual(result.metric, refine, accuracy: 1e-12, "arm \(result.arm) after \(result.rounds) rounds")
        }
    }

    // MARK: Comparing runs

    func testComparisonTellsIdenticalRunsFromDifferentOnes() throws {
        let root = try makeTemporaryDirectory(self)
        _ = try run(baseConfig, in: root + "/a", ranks: 2)
        _ = try run(baseConfig, in: root + "/b", ranks: 2)
        _ = try run(baseConfig, in: root + "/c", ranks: 3)
        _ = try run(baseConfig.replacingOccurrences(of: "seed: 4", with: "seed: 5"), in: root + "/d", ranks: 2)
        let same = try RunComparison.compare(root + "/a", root + "/b")
        XCTAssertTrue(same.isIdentical)
        XCTAssertEqual(same.arms[0].identicalRounds, 6)
        XCTAssertTrue(same.report.contains("model digests agree in 6 of 6 rounds"), same.report)
        XCTAssertTrue(same.report.contains("(bit-identical)"))
        let ranks = try RunComparison.compare(root + "/a", root + "/c")
        XCTAssertLessThan(ranks.maxDifference, 1e-5, "2 and 3 ranks: float rounding at most")
        let other = try RunComparison.compare(root + "/a", root + "/d")
        XCTAssertFalse(other.isIdentical)
        XCTAssertEqual(other.arms[0].identicalRounds, 0)
    }

    // MARK: Bad input, once on every rank

    func testRefusesAnExistingRunDirectoryAndUntouchedItStays() throws {
        let dir = try makeTemporaryDirectory(self) + "/existing"
        _ = try run(baseConfig, in: dir)
        let before = try Data(contentsOf: RunDirectory(path: dir).journalURL)
        let message = federatedRunError { try self.run(self.baseConfig, in: dir) }
        XCTAssertTrue(message.contains("already exists; use --resume to continue it"), message)
        XCTAssertEqual(try Data(contentsOf: RunDirectory(path: dir).journalURL), before)
        XCTAssertTrue(federatedRunError { try self.run(in: dir + "-missing", resume: true) }
            .contains("cannot be resumed: no config.yaml and events.jsonl there"))
    }

    func testMoreClientsPerRoundThanClientsFailsOnEveryRankAlike() throws {
        let dir = try makeTemporaryDirectory(self) + "/many"
        let text = baseConfig.replacingOccurrences(of: "clients_per_round: 3", with: "clients_per_round: 9")
        let message = federatedRunError { try self.run(text, in: dir, ranks: 3) }
        XCTAssertEqual(message, "sampling.clients_per_round: asks for 9 clients per round but there are only 8 training clients")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing created for a run that cannot start")
    }

    /// The message of the uniform error a run throws.
    private func federatedRunError(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            XCTFail("expected an error")
        } catch let error as UniformError {
            return error.description
        } catch {
            XCTFail("expected a UniformError, got \(type(of: error)): \(error)")
        }
        return ""
    }
}
