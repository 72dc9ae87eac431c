import CohortFiles
import XCTest
@testable import CohortPipelines
@testable import CohortTune

/// Pipeline trials on the embedded digits: reuse changes nothing but time, pause and
/// resume are exact, and every config mistake has one clear message.
final class PipelineTrainableTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let space = #"""
    {"pca.components": {"type": "int", "low": 8, "high": 32, "gridded": 2},
     "rff.dimension": {"type": "choice", "values": [64, 128]},
     "classifier.learning_rate": 0.2}
    """#

    func factory(_ section: String = #"{"dataset": "digits", "stages": ["standardize", "pca", "rff"]}"#,
                 space: String = space) throws -> PipelineTrainableFactory {
        let space = try SearchSpace(json: try JSONValue.parse(space))
        var fields = try XCTUnwrap(try JSONValue.parse(section).objectMembers)
        fields.insert(("type", .string("pipeline")), at: 0)
        let context = TrainableContext(space: space, seed: 4, mode: .max, maxResource: 9)
        let made = try TrainableCatalog.withPipelines.makeFactory(.object(fields), context: context)
        return try XCTUnwrap(made as? PipelineTrainableFactory)
    }

    func messages(_ section: String, space: String = space) -> String {
        do { _ = try factory(section, space: space); return "" } catch { return "\(error)" }
    }

    func job(_ f: PipelineTrainableFactory, trial: Int) -> JobContext {
        let config = f.context.space.sample(trial: trial, seed: f.context.seed)
        return JobContext(job: Job(trial: trial, config: config, rung: 0, resource: 1), run: RunDirectory(dir), worker: 1)
    }

    func trainable(_ f: PipelineTrainableFactory, trial: Int) throws -> PipelineTrainable {
        try XCTUnwrap(try f.make(for: job(f, trial: trial)) as? PipelineTrainable)
    }

    func testReuseChangesWhereOutputsComeFromNotTheResult() throws {
        let f = try factory()
        let first = try trainable(f, trial: 0)
        try first.train(to: 2)
        XCTAssertEqual(first.extraMetrics["pipeline.rff.source"], 0)
        XCTAssertEqual(first.extraMetrics["pipeline.standardize.source"], 0)
        let again = try trainable(f, trial: 0)
        try again.train(to: 2)
        XCTAssertEqual(again.extraMetrics["pipeline.rff.source"], 1)       // the worker's memory
        XCTAssertNil(again.extraMetrics["pipeline.pca.source"])             // not touched
        XCTAssertEqual(try again.evaluate(), try first.evaluate())
        // Another process (a fresh factory) finds it on the shared disk.
        let other = try trainable(try factory(), trial: 0)
        try other.train(to: 2)
        XCTAssertEqual(other.extraMetrics["pipeline.rff.source"], 2)
        XCTAssertEqual(try other.evaluate(), try first.evaluate())
        // Without reuse every stage is computed, with the same result.
        let plain = try trainable(try factory(#"{"dataset": "digits", "stages": ["standardize", "pca", "rff"], "reuse": false}"#), trial: 0)
        try plain.train(to: 2)
        XCTAssertEqual(plain.extraMetrics["pipeline.standardize.source"], 0)
        XCTAssertEqual(try plain.evaluate(), try first.evaluate())
        // Two epochs on 64 or 128 random features: far above chance (0.1).
        XCTAssertGreaterThan(try first.evaluate(), 0.7)
        XCTAssertGreaterThan(try XCTUnwrap(try first.testMetric()), 0.7)
    }

    func testTheSVMAndPolynomialFeaturesLearnToo() throws {
        let f = try factory(#"{"dataset": "digits", "stages": ["standardize", "pca", "poly"], "classifier": "svm"}"#,
                            space: #"{"pca.components": 12, "poly.degree": 2, "classifier.learning_rate": 0.05}"#)
        let t = try trainable(f, trial: 0)
        try t.train(to: 3)
        XCTAssertEqual(t.classifier?.columns, 90)   // 12 + 12 x 13 / 2 monomials
        XCTAssertGreaterThan(try t.evaluate(), 0.8)
        // A checkpoint of another shape, or not a checkpoint, is refused with a reason.
        let url = dir.appendingPathComponent("svm.ckpt")
        try Data("CohortLinear1\n{\"columns\": 3, \"classes\": 10, \"step\": 1}\n".utf8).write(to: url)
        XCTAssertThrowsError(try trainable(f, trial: 0).restore(from: url, resource: 1)) { error in
            XCTAssertEqual("\(error)", "bad checkpoint: it holds a 3 x 10 classifier, not 90 x 10")
        }
        try Data("nothing".utf8).write(to: url)
        XCTAssertThrowsError(try trainable(f, trial: 0).restore(from: url, resource: 1)) { error in
            XCTAssertEqual("\(error)", "bad checkpoint: not a linear classifier's checkpoint")
        }
    }

    func testResumeIsExact() throws {
        let f = try factory()
        let whole = try trainable(f, trial: 3)
        try whole.train(to: 5)
        let part = try trainable(f, trial: 3)
        try part.train(to: 2)
        let url = dir.appendingPathComponent("t3.ckpt")
        try part.save(to: url)
        let resumed = try trainable(f, trial: 3)
        try resumed.restore(from: url, resource: 2)
        try resumed.train(to: 5)
        XCTAssertEqual(try resumed.evaluate(), try whole.evaluate())
        let trained = try XCTUnwrap(resumed.classifier), reference = try XCTUnwrap(whole.classifier)
        XCTAssertEqual(trained.weights.map(\.bitPattern), reference.weights.map(\.bitPattern))
        XCTAssertEqual(trained.bias.map(\.bitPattern), reference.bias.map(\.bitPattern))
        XCTAssertEqual(trained.step, reference.step)
        XCTAssertGreaterThan(trained.step, 0)
        // Another trial's checkpoint is refused.
        let stranger = try trainable(f, trial: 4)
        XCTAssertThrowsError(try stranger.restore(from: url, resource: 2)) { error in
            XCTAssertTrue("\(error)".contains("it belongs to trial 3"), "\(error)")
        }
    }

    func testKeysFollowTheChainAndTheGrid() throws {
        let f = try factory()
        let configs = (0..<40).map { f.context.space.sample(trial: $0, seed: 4) }
        // Two gridded PCA sizes, two RFF dimensions: at most 4 chains (one standardisation).
        let chains = Set(configs.map { f.reuseKeys(for: $0) })
        XCTAssertLessThanOrEqual(chains.count, 4)
        XCTAssertGreaterThan(chains.count, 1)
        XCTAssertEqual(Set(chains.map { $0[0] }).count, 1)
        let pca = Set(configs.compactMap { $0["pca.components"] })
        XCTAssertEqual(pca.count, 2)
        XCTAssertEqual(pca, Set(SearchSpace.griddedValues(of: "pca.components", base: .integer(low: 8, high: 32, log: false), count: 2, seed: 4)))
        // Another seed, another grid (drawn once per run).
        let otherGrid = Set(SearchSpace.griddedValues(of: "pca.components", base: .integer(low: 8, high: 32, log: false), count: 2, seed: 5))
        XCTAssertNotEqual(pca, otherGrid)
    }

    func testConfigMistakesHaveOneClearMessageEach() {
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["standardize", "pcaa"]}"#)
            .contains("trainable.stages[1]: unknown stage 'pcaa' (stages: standardize, pca, rff, poly; did you mean pca?)"))
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["pca", "rff"], "cache": {"memory": "lots"}}"#)
            .contains("trainable.cache.memory: must be a size such as 512MB or 2GiB, got 'lots'"))
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["pca", "rff"], "cache": {"policy": "fifo"}}"#)
            .contains("trainable.cache.policy"))
        XCTAssertTrue(messages(#"{"dataset": "digits"}"#).contains("trainable.stages: is missing"))
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["pca"]}"#)
            .contains("space.rff.dimension: sets the stage rff, which trainable.stages does not list"))
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["pca", "rff"]}"#, space: #"{"pca.size": 3}"#)
            .contains("space.pca.size: pca has no setting 'size' (its settings: components)"))
        XCTAssertTrue(messages(#"{"dataset": "digits", "stages": ["pca", "rff"]}"#, space: #"{"lr": 3}"#)
            .contains("named <stage>.<setting>"))
    }

    func testGridWithNoValuesIsRefused() {
        for (definition, expected) in [
            (#"{"a": {"type": "int", "low": 1, "high": 9, "gridded": 0}}"#, "space.a.gridded: is 0: a grid needs at least one value"),
            (#"{"a": {"type": "uniform", "low": 1, "high": 9, "gridded": "x"}}"#, "space.a.gridded: must be the number of grid values"),
            (#"{"a": {"type": "choice", "values": []}}"#, "space.a.values: is empty"),
        ] {
            XCTAssertThrowsError(try SearchSpace(json: try JSONValue.parse(definition))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testStageThatCannotRunFailsItsTrialWithAMessage() throws {
        let f = try factory(#"{"dataset": "digits", "stages": ["pca"]}"#, space: #"{"pca.components": 100}"#)
        let t = try trainable(f, trial: 0)
        XCTAssertThrowsError(try t.train(to: 1)) { error in
            XCTAssertEqual("\(error)", "pca.components is 100, more than the 64 columns it receives")
        }
    }
}

