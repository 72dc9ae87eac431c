import CohortFiles
import XCTest
@testable import CohortTune

/// `farm.ranks_per_trial`: how worker ranks are grouped, and a search whose trials are
/// each trained by two ranks data-parallel giving the one-rank results.
final class TrainingGroupsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("groups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testGroupsStayWithinAHostAndPoolTheLeftovers() throws {
        // Rank 0 (the coordinator) on a; workers 1 on a, 2-4 on b, 5-6 on c.
        let g = try TrainingGroups(hosts: ["a", "a", "b", "b", "b", "c", "c"], ranksPerTrial: 2)
        XCTAssertEqual(g.members, [[1, 4], [2, 3], [5, 6]])
        XCTAssertEqual(g.leaders, [1, 2, 5])
        XCTAssertEqual(g.group(of: 4)?.index, 0)
        XCTAssertEqual(g.group(of: 4)?.position, 1)
        XCTAssertNil(g.group(of: 0))
        XCTAssertEqual(try TrainingGroups(hosts: ["a", "a", "a", "b", "b", "b", "b"], ranksPerTrial: 3).members, [[1, 2, 6], [3, 4, 5]])
        XCTAssertEqual(try TrainingGroups(hosts: ["a", "a", "b"], ranksPerTrial: 1).members, [[1], [2]])
    }

    func testAWorkerCountThatIsNoMultipleIsRefusedWithTheCountThatFits() {
        XCTAssertNil(TrainingGroups.problem(workers: 6, ranksPerTrial: 3))
        XCTAssertNil(TrainingGroups.problem(workers: 5, ranksPerTrial: 1))
        XCTAssertEqual(TrainingGroups.problem(workers: 5, ranksPerTrial: 2),
                       "farm.ranks_per_trial: 2 does not divide the 5 worker ranks into groups (mpirun -np N gives N-1 workers: use -np 5, or another multiple of 2)")
        XCTAssertEqual(TrainingGroups.problem(workers: 1, ranksPerTrial: 2, underMPI: false),
                       "farm.ranks_per_trial: 2 does not divide the 1 worker ranks into groups (use --workers 2, or another multiple of 2)")
    }

    func config(ranksPerTrial: Int, trainable: String = "{type: mlp, dataset: digits, metric: loss}") throws -> String {
        let url = dir.appendingPathComponent("k\(ranksPerTrial).yaml")
        try """
        name: groups
        seed: 3
        metric: val_loss
        mode: min
        scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 3, max_trials: 6}
        farm: {ranks_per_trial: \(ranksPerTrial)}
        trainable: \(trainable)
        space:
          learning_rate: {type: loguniform, low: 0.01, high: 0.3}
          width: {type: int, low: 16, high: 48}
          batch_size: 64
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// (trial, rung) -> metric, and the workers named, of a run's journal.
    func results(_ out: String) throws -> (metrics: [String: Double], workers: Set<Int>) {
        var metrics: [String: Double] = [:], workers = Set<Int>()
        for line in try String(contentsOfFile: out + "/events.jsonl", encoding: .utf8).split(separator: "\n") {
            let e = try JSONValue.parse(String(line))
            guard e["event"]?.stringValue == "result", let t = e["trial"]?.intValue, let r = e["rung"]?.intValue,
                  let m = e["metric"]?.doubleValue, let w = e["worker"]?.intValue else { continue }
            metrics["\(t)/\(r)"] = m
            workers.insert(w)
        }
        return (metrics, workers)
    }

    func testTrialsTrainedByTwoRanksEachGiveTheOneRankResults() throws {
        let alone = dir.appendingPathComponent("alone").path, paired = dir.appendingPathComponent("paired").path
        _ = try TuneRunner.run(TuneOptions(configPath: try config(ranksPerTrial: 1), out: alone, workers: 2, progress: false, syncJournal: false))
        let outcome = try XCTUnwrap(try TuneRunner.run(TuneOptions(configPath: try config(ranksPerTrial: 2), out: paired, workers: 4,
                                                                   progress: false, syncJournal: false)))
        XCTAssertEqual(try JournalAudit.check(run: RunDirectory(URL(fileURLWithPath: paired))), [])
        XCTAssertEqual(outcome.end.trials, 6)
        let a = try results(alone), p = try results(paired)
        // Two groups, named by their leaders: ranks 1 (with 2) and 3 (with 4).
        XCTAssertEqual(p.workers, [1, 3])
        // Every rung-0 result, and every promotion both runs made, agrees to float rounding.
        let shared = Set(a.metrics.keys).intersection(p.metrics.keys)
        XCTAssertGreaterThanOrEqual(shared.count, 6)
        for key in shared.sorted() {
            let x = try XCTUnwrap(a.metrics[key]), y = try XCTUnwrap(p.metrics[key])
            XCTAssertEqual(x, y, accuracy: 1e-5 * abs(x), "trial/rung \(key)")
        }
        // The leader's checkpoint, restored on one rank, gives best.json its test metric.
        XCTAssertNotNil(try XCTUnwrap(outcome.best).testMetric)
    }

    func testATrainableOfOneRankOrAWorkerCountThatDoesNotDivideIsRefused() throws {
        XCTAssertThrowsError(try TuneConfig.load(contentsOf: URL(fileURLWithPath: try config(ranksPerTrial: 2, trainable: "{type: surrogate}")))) { e in
            XCTAssertEqual("\(e)", "farm.ranks_per_trial: a trainable of type surrogate trains each trial on one rank; ranks_per_trial: 2 needs one that trains data-parallel (mlp or cnn)")
        }
        let out = dir.appendingPathComponent("odd").path
        XCTAssertThrowsError(try TuneRunner.run(TuneOptions(configPath: try config(ranksPerTrial: 2), out: out, workers: 3, progress: false))) { e in
            XCTAssertTrue("\(e)".hasPrefix("farm.ranks_per_trial: 2 does not divide the 3 worker ranks"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
