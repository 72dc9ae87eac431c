import CohortCluster
import CohortData
import CohortTensor
import XCTest
@testable import CohortNAS

/// The GAEA and DARTS authors' code where it differs from the defaults: the
/// architecture step before the weight step, the cell of the best validation epoch,
/// GAEA's entropy regulariser and adaptive step.
final class ReferenceOptionsTests: XCTestCase {
    /// One search step, replayed by hand in a given order on a fresh search: the
    /// architecture step on the first validation batch, then the weight step on the
    /// first training batch. With `architecture_first` the search's step is exactly
    /// that replay (architecture and supernet weights, bit for bit); with
    /// `weights_first` its architecture step saw other weights and lands elsewhere.
    func testArchitectureFirstStepsTheArchitectureBeforeTheWeights() throws {
        for strategy in [NASConfig.Strategy.gaea, .darts] {
            func oneStep(_ order: NASConfig.StepOrder) throws -> (architecture: [Double], weights: UInt64) {
                var config = try tinyConfig(strategy)
                config.gaea.stepOrder = order
                config.darts.stepOrder = order
                config.gaea.eta = 0.5
                let data = try NASData.search(config)
                let search = try SupernetSearch(config: config, data: data, communicator: LocalCommunicator.single(), recorder: nil)
                _ = try search.train(maxSteps: 1)
                return (search.architecture!.learnedValues, search.trainer.digest(architectureValues: []).value)
            }
            var config = try tinyConfig(strategy)
            config.gaea.eta = 0.5
            let data = try NASData.search(config)
            let byHand = try SupernetSearch(config: config, data: data, communicator: LocalCommunicator.single(), recorder: nil)
            let weights = try XCTUnwrap(byHand.architecture)
            var validation = try SupernetSearch.ValidationBatches(count: data.validation.count, batchSize: config.search.batchSize, seed: config.seed)
            try byHand.architectureStep(weights, validationBatches: &validation)
            var order = try MinibatchSampler(sampleCount: data.train.count, batchSize: config.search.batchSize, seed: config.seed,
                                             stream: [StreamPurpose.searchBatches], dropLast: true)
            order.startEpoch(0)
            var totals = SupernetTrainer.Totals()
            _ = try byHand.trainer.step(data.train, shard: order.shardIndices(batch: 0, rank: 0, rankCount: 1),
                                        batchCount: config.search.batchSize, updateWeights: true, totals: &totals) { tape in
                SupernetSearch.mixturePath(weights, tape, trainable: false)
            }
            let expected = (weights.learnedValues, byHand.trainer.digest(architectureValues: []).value)

            let first = try oneStep(.architectureFirst)
            XCTAssertEqual(first.architecture, expected.0, "\(strategy)")
            XCTAssertEqual(first.weights, expected.1, "\(strategy)")
            let last = try oneStep(.weightsFirst)
            XCTAssertNotEqual(last.architecture, expected.0, "\(strategy): weights first moves the architecture after the weights")
        }
    }

    /// Every epoch's supernet validation accuracy is recorded, and the cell returned is
    /// the one of the best epoch (the earliest on ties), not necessarily the last.
    func testBestEpochReturnsTheCellOfTheBestValidationEpoch() throws {
        var config = try tinyConfig(.gaea)
        config.search.epochs = 3
        config.gaea.eta = 2
        config.gaea.deriveFrom = .bestEpoch
        let data = try NASData.search(config)
        let best = config
        let reports = try LocalCommunicator.map(ranks: 2) { comm -> SupernetReport in
            try SupernetSearch(config: best, data: data, communicator: comm, recorder: nil).train()
        }
        let report = reports[0]
        let accuracies = try report.epochs.map { try XCTUnwrap($0.validationAccuracy) }
        XCTAssertEqual(accuracies.count, 3)
        XCTAssertTrue(accuracies.allSatisfy { $0 > 0 && $0 <= 1 })
        let bestIndex = accuracies.indices.first { accuracies[$0] == accuracies.max()! }!
        XCTAssertEqual(report.derivedEpoch, bestIndex + 1)
        XCTAssertEqual(report.derived, report.epochs[bestIndex].derived)
        XCTAssertEqual(reports[1].derived, report.derived, "every rank returns the same cell")
        XCTAssertEqual(reports[1].epochs.map(\.validationAccuracy), report.epochs.map(\.validationAccuracy))

        config.gaea.deriveFrom = .lastEpoch
        let last = try SupernetSearch(config: config, data: data, communicator: LocalCommunicator.single(), recorder: nil).train()
        XCTAssertNil(last.epochs[0].validationAccuracy)
        XCTAssertEqual(last.derivedEpoch, 3)
        XCTAssertEqual(last.derived, last.epochs[2].derived)
    }

    /// With a zero loss gradient the regulariser alone moves the weights toward uniform:
    /// g_k = lambda (log(5 w_k) + 1), then w_k <- w_k exp(-eta g_k), renormalised.
    func testEntropyRegulariserPullsTowardUniform() {
        let start = (0..<30).map { i -> Double in [0.4, 0.3, 0.1, 0.1, 0.1][i % 5] }
        let gaea = SimplexArchitectureWeights(weights: start, eta: 0.1, clamp: 1e-5, entropyWeight: 0.5)
        gaea.update(gradient: [Float](repeating: 0, count: 30))
        let moved = start[0..<5].map { w in w * exp(-0.1 * 0.5 * (log(5 * w) + 1)) }
        let sum = moved.reduce(0, +)
        for k in 0..<5 { XCTAssertEqual(gaea.weights[k], moved[k] / sum, accuracy: 1e-15) }
        XCTAssertLessThan(gaea.weights[0], 0.4)
        XCTAssertGreaterThan(gaea.weights[2], 0.1)
        let uniform = SimplexArchitectureWeights(eta: 0.1, clamp: 1e-5, entropyWeight: 0.5)
        uniform.update(gradient: [Float](repeating: 0, count: 30))
        for w in uniform.weights { XCTAssertEqual(w, 0.2, accuracy: 1e-15) }
    }

    /// eta / max |g|: gradients 100x larger move the weights exactly as much.
    func testAdaptiveStepIgnoresTheGradientScale() {
        var small = [Float](repeating: 0, count: 30), large = small
        for i in 0..<30 { small[i] = Float(i % 5) * 0.01 - 0.02; large[i] = small[i] * 100 }
        let a = SimplexArchitectureWeights(eta: 0.1, clamp: 1e-5, adaptStep: true)
        let b = SimplexArchitectureWeights(eta: 0.1, clamp: 1e-5, adaptStep: true)
        a.update(gradient: small)
        b.update(gradient: large)
        for (x, y) in zip(a.weights, b.weights) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        // The largest |g| is 0.02: the step is eta / 0.02 on g, i.e. exp(-+0.1) at the extremes.
        var expected = Array(repeating: 0.2, count: 5)
        SimplexArchitectureWeights.exponentiatedGradientStep(&expected, gradient: (0..<5).map { Double(small[$0]) }, eta: 0.1 / 0.02,
                                                             clamp: 1e-5, operations: 5)
        for k in 0..<5 { XCTAssertEqual(a.weights[k], expected[k], accuracy: 1e-6) }
        let still = SimplexArchitectureWeights(eta: 0.1, clamp: 1e-5, adaptStep: true)
        still.update(gradient: [Float](repeating: 0, count: 30))
        XCTAssertEqual(still.weights, Array(repeating: 0.2, count: 30), "a zero gradient moves nothing")
    }

    /// RSWS with `scoring: running_batches`: cells drawn i.i.d., each scored on the next
    /// two batches of one validation iterator that runs on (wrapping into new epochs);
    /// every rank count ranks them alike.
    func testRunningBatchesScoreEachDrawOnTheNextBatches() throws {
        var config = try tinyConfig(.rsws)
        config.rsws.scoring = .runningBatches
        config.search.syncBatchNorm = true   // the same supernet, to rounding, on any rank count
        let data = try NASData.search(config)
        let fixed = config
        typealias Outcome = (candidates: [CandidateScore], expected: [Double], cells: [CellArchitecture])
        func run(ranks: Int) throws -> Outcome {
            try LocalCommunicator.map(ranks: ranks) { comm -> Outcome in
                let search = try SupernetSearch(config: fixed, data: data, communicator: comm, recorder: nil)
                _ = try search.train()
                let scoring = CandidateScoring(trainer: search.trainer, validation: data.validation, communicator: comm,
                                               seed: fixed.seed, batchSize: fixed.scoringBatchSize)
                let candidates = try scoring.randomSearch(fixed.rsws, recorder: nil)
                let cells = CandidateScoring.sampleIndependent(fixed.rsws.architectures, seed: fixed.seed, round: 0)
                var running = try CandidateScoring.RunningBatches(count: data.validation.count, batchSize: fixed.scoringBatchSize, seed: fixed.seed)
                let expected = try cells.map { cell in try scoring.score([cell], on: [running.next(), running.next()])[0].accuracy }
                return (candidates, expected, cells)
            }[0]
        }
        let one = try run(ranks: 1)
        XCTAssertEqual(one.candidates.count, 3)
        for c in one.candidates {
            let draws = one.cells.indices.filter { one.cells[$0] == c.architecture }
            XCTAssertFalse(draws.isEmpty)
            XCTAssertTrue(draws.contains { one.expected[$0] == c.minibatchAccuracy }, "\(c.architecture): scored on its own batches")
        }
        var running = try CandidateScoring.RunningBatches(count: 200, batchSize: 50, seed: 5)
        let epoch = (0..<4).map { _ in running.next() }, next = running.next()
        XCTAssertEqual(Set(epoch.flatMap { $0 }), Set(0..<200), "one epoch covers the validation split")
        XCTAssertEqual(next.count, 50, "then the next epoch's order")
        let three = try run(ranks: 3).candidates
        XCTAssertEqual(three.map(\.architecture), one.candidates.map(\.architecture))
        XCTAssertEqual(three.map(\.minibatchAccuracy), one.candidates.map(\.minibatchAccuracy))
        for (a, b) in zip(three, one.candidates) { XCTAssertEqual(a.minibatchLoss!, b.minibatchLoss!, accuracy: 1e-4) }
    }

    func testConfigReadsTheReferenceOptions() throws {
        let gaea = try tinyConfig(.gaea, extra: "").with("""
          step_order: architecture_first
          derive_from: best_epoch
          entropy_weight: 0.01
          adapt_step: true
        """)
        XCTAssertEqual(gaea.gaea.stepOrder, .architectureFirst)
        XCTAssertEqual(gaea.gaea.deriveFrom, .bestEpoch)
        XCTAssertEqual(gaea.gaea.entropyWeight, 0.01)
        XCTAssertTrue(gaea.gaea.adaptStep)
        let darts = try tinyConfig(.darts).with("  step_order: architecture_first\n  derive_from: best_epoch")
        XCTAssertEqual(darts.darts.stepOrder, .architectureFirst)
        XCTAssertEqual(darts.darts.deriveFrom, .bestEpoch)
        XCTAssertThrowsError(try tinyConfig(.darts).with("  entropy_weight: 0.1")) { e in
            XCTAssertTrue("\(e)".contains("strategy.entropy_weight: unknown key"), "\(e)")
        }
        XCTAssertThrowsError(try tinyConfig(.gaea).with("  step_order: sideways")) { e in
            XCTAssertEqual("\(e)", "strategy.step_order: unknown value 'sideways' (expected one of weights_first, architecture_first)")
        }
    }
}

private extension NASConfig {
    /// The same config with `lines` added to its strategy section.
    func with(_ lines: String) throws -> NASConfig {
        let text = sourceText.replacingOccurrences(of: "  type: \(strategy.rawValue)\n", with: "  type: \(strategy.rawValue)\n\(lines)\n")
        return try NASConfig.parse(text)
    }
}
