import XCTest
@testable import CohortMeta
import CohortData
import CohortTensor

final class MetaLearningTests: XCTestCase {
    /// `classes` classes of `drawings` 16x16 drawings; drawing values encode class and index.
    func pool(classes: Int, drawings: Int, rotations: Bool = false) throws -> ClassPool {
        var features: [Float] = [], labels: [Int32] = []
        var stream = RandomStream(seed: 5)
        for c in 0..<classes {
            for _ in 0..<drawings {
                features += (0..<256).map { i in Float((i * (c + 3)) % 7) / 7 + 0.1 * stream.uniform() }
                labels.append(Int32(c))
            }
        }
        let data = try Dataset(name: "tiny", sampleShape: [1, 16, 16], features: features, labels: labels, classCount: classes)
        return ClassPool(dataset: data, members: Array(0..<classes), rotations: rotations)
    }

    func config(_ learner: LearnerKind) -> MetaConfig {
        var c = MetaConfig()
        c.learner = learner
        c.side = 16
        c.filters = 3
        c.ways = 3
        c.shots = 2
        c.queries = 2
        c.innerSteps = 2
        c.testSteps = 2
        return c
    }

    // MARK: Budget and episodes

    func testBudgetBuysWholeTasksAndCyclesOverThem() throws {
        let b = try SupervisionBudget(total: 100, ways: 5, shots: 1, queries: 5)
        XCTAssertEqual(b.labelsPerTask, 30)
        XCTAssertEqual(b.taskCount, 3)
        XCTAssertEqual(b.used, 90)
        XCTAssertEqual((0..<3).flatMap { s in (0..<2).map { b.taskID(step: s, slot: $0, metaBatch: 2) } }, [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(try SupervisionBudget(total: nil, ways: 5, shots: 1, queries: 5).taskID(step: 3, slot: 1, metaBatch: 2), 7)
        XCTAssertThrowsError(try SupervisionBudget(total: 29, ways: 5, shots: 1, queries: 5)) { error in
            XCTAssertEqual("\(error)", "budget 29 is smaller than one task: 5 ways x (1 shots + 5 queries) = 30 labelled points")
        }
        XCTAssertThrowsError(try MetaConfig.parse("data: {type: omniglot}\nbudget: 10\n")) { error in
            XCTAssertTrue("\(error)".contains("budget 10 is smaller than one task"), "\(error)")
        }
    }

    func testEpisodesAreDisjointDistinctAndFixedByTheirStream() throws {
        let p = try pool(classes: 6, drawings: 7)
        var s1 = RandomStream(seed: 3, stream: [9]), s2 = RandomStream(seed: 3, stream: [9])
        let e = Episode.draw(from: p, ways: 4, shots: 2, candidates: 3, queries: 4, stream: &s1)
        XCTAssertEqual(e, Episode.draw(from: p, ways: 4, shots: 2, candidates: 3, queries: 4, stream: &s2))
        XCTAssertEqual(Set(e.classes).count, 4)
        for way in 0..<4 {
            XCTAssertEqual(e.candidates[way].count, 3)
            XCTAssertEqual(e.support[way], Array(e.candidates[way][0..<2]))
            XCTAssertTrue(Set(e.candidates[way]).isDisjoint(with: e.queries[way]))
        }
        XCTAssertEqual(e.labelCount, 4 * (2 + 4))
    }

    func testTooManyShotsForTheDrawingsIsOneMessage() throws {
        var c = config(.protonets)
        c.shots = 5
        c.queries = 3
        let p = try pool(classes: 6, drawings: 7)
        XCTAssertThrowsError(try c.validate(trainPool: p, testPool: p)) { error in
            XCTAssertEqual("\(error)", "episodes need 8 drawings per class (shots 5 + queries 3), but a class has only 7")
        }
    }

    func testRotationsAreQuarterTurnsAsNewClasses() throws {
        var features = [Float](repeating: 0, count: 256)
        features[1] = 1 // row 0, column 1
        let data = try Dataset(name: "one", sampleShape: [1, 16, 16], features: features, labels: [0], classCount: 1)
        let p = ClassPool(dataset: data, members: [0], rotations: true)
        XCTAssertEqual(p.classCount, 4)
        var out = [Float](repeating: 0, count: 256)
        out.withUnsafeMutableBufferPointer { p.fill(class: 1, drawing: 0, into: $0.baseAddress!) }
        // A counter-clockwise quarter turn takes (row 0, column 1) to (row 14, column 0).
        XCTAssertEqual(out.firstIndex(of: 1), 14 * 16 + 0)
        out.withUnsafeMutableBufferPointer { p.fill(class: 2, drawing: 0, into: $0.baseAddress!) }
        XCTAssertEqual(out.firstIndex(of: 1), 15 * 16 + 14)
    }

    // MARK: Learners

    func testPrototypeLogitsAreMinusSquaredDistances() throws {
        let p = try pool(classes: 4, drawings: 4)
        var s = RandomStream(seed: 1)
        let task = TaskImages(Episode.draw(from: p, ways: 3, shots: 2, candidates: 2, queries: 1, stream: &s), pool: p)
        let learner = try MetaRun.makeLearner(config(.protonets), ways: 3) as! PrototypicalNetworks
        let tape = Tape()
        let logits = tape.withoutGradients { learner.logits(task, tape: tape).toArray() }
        let e = learner.embed(task.support + task.query, count: 9, sampleShape: [1, 16, 16], tape: Tape())
        let d = e.count / 9
        for q in 0..<3 {
            for way in 0..<3 {
                let rows = (0..<6).filter { task.supportLabels[$0] == way }
                var distance: Float = 0
                for k in 0..<d {
                    let prototype = rows.reduce(Float(0)) { $0 + e[$1 * d + k] } / Float(rows.count)
                    let diff = e[(6 + q) * d + k] - prototype
                    distance += diff * diff
                }
                XCTAssertEqual(logits[q * 3 + way], -distance, accuracy: 1e-3 * max(1, distance))
            }
        }
    }

    func testReptileMetaGradientIsTheWayBackFromTheAdaptedWeights() throws {
        let p = try pool(classes: 4, drawings: 4)
        var s = RandomStream(seed: 2)
        let task = TaskImages(Episode.draw(from: p, ways: 3, shots: 1, candidates: 1, queries: 1, stream: &s), pool: p)
        let learner = try MetaRun.makeLearner(config(.reptile), ways: 3)
        let theta = learner.model.parameters.toArray()
        var accumulator = [Float](repeating: 0, count: theta.count)
        _ = accumulator.withUnsafeMutableBufferPointer { learner.addMetaGradient(task, weight: 0.5, into: $0) }
        XCTAssertEqual(learner.model.parameters.toArray(), theta, "the weights are restored after the task")
        InnerLoop.adapt(learner.model, images: task.support + task.query, labels: task.supportLabels + task.queryLabels,
                        sampleShape: [1, 16, 16], steps: 2, learningRate: 0.05, tape: Tape())
        let phi = learner.model.parameters.toArray()
        XCTAssertGreaterThan(zip(theta, phi).map { abs($0 - $1) }.max()!, 0)
        for i in theta.indices { XCTAssertEqual(accumulator[i], 0.5 * (theta[i] - phi[i]), accuracy: 1e-6) }
    }

    func testFirstOrderMAMLRestoresWeightsAndGivesTheQueryGradient() throws {
        let p = try pool(classes: 4, drawings: 4)
        var s = RandomStream(seed: 2)
        let task = TaskImages(Episode.draw(from: p, ways: 3, shots: 1, candidates: 1, queries: 2, stream: &s), pool: p)
        let learner = try MetaRun.makeLearner(config(.fomaml), ways: 3)
        let theta = learner.model.parameters.toArray()
        var accumulator = [Float](repeating: 0, count: theta.count)
        _ = accumulator.withUnsafeMutableBufferPointer { learner.addMetaGradient(task, weight: 1, into: $0) }
        XCTAssertEqual(learner.model.parameters.toArray(), theta)
        let tape = Tape()
        InnerLoop.adapt(learner.model, images: task.support, labels: task.supportLabels, sampleShape: [1, 16, 16], steps: 2, learningRate: 0.05, tape: tape)
        var expected = [Float](repeating: 0, count: theta.count)
        _ = expected.withUnsafeMutableBufferPointer {
            InnerLoop.evaluate(learner.model, images: task.query, labels: task.queryLabels, sampleShape: [1, 16, 16], tape: tape, gradientInto: $0)
        }
        XCTAssertEqual(accumulator, expected)
        XCTAssertGreaterThan(accumulator.map(abs).max()!, 0)
    }

    func testCoverageForOneShotPicksTheMedoid() {
        let points: [[Float]] = [[0, 0], [10, 0], [1, 0], [2, 0]]
        // Squared distances: x = 2 costs 4 + 64 + 1 = 69, x = 1 costs 1 + 81 + 1 = 83.
        XCTAssertEqual(SupportSelection.facilityLocation(points, count: 1), [3])
        XCTAssertEqual(SupportSelection.facilityLocation(points, count: 2), [3, 1])
    }

    func testConfidenceIntervalOfKnownValues() {
        let (mean, interval) = MetaEvaluation.meanInterval([0, 1, 0, 1])
        XCTAssertEqual(mean, 0.5)
        XCTAssertEqual(interval, 1.96 * (1.0 / 3.0 / 4.0).squareRoot(), accuracy: 1e-12)
    }
}
