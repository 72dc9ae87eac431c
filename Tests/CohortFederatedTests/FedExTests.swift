import CohortTensor
import Foundation
import XCTest
@testable import CohortFederated

/// FedEx updates checked against values worked out by hand from the update rule
/// (theta_i proportional to theta_i exp(-eta grad_i), grad_i = sum_j w_j (L_j - b) / theta_i
/// over the clients j that drew i) and cross-checked with an independent NumPy script.
final class FedExTests: XCTestCase {
    private func assertProbabilities(_ actual: [Double], _ expected: [Double], accuracy: Double = 1e-12,
                                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: accuracy, file: file, line: line) }
    }

    func testStartsUniformWithEtaZeroSqrtTwoLogK() throws {
        let fedex = try FedExDistribution(sizes: [3, 1, 4], settings: .init())
        assertProbabilities(fedex.categoricals[0].probabilities, [1.0 / 3, 1.0 / 3, 1.0 / 3])
        assertProbabilities(fedex.categoricals[2].probabilities, [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(fedex.eta0[0], (2 * log(3.0)).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(fedex.eta0[1], 0, "one choice: nothing to learn")
        XCTAssertEqual(fedex.entropy, log(3.0) + log(4.0), accuracy: 1e-12)
        XCTAssertEqual(fedex.baseline, 0)
        XCTAssertEqual(fedex.mostLikely, [0, 0, 0])
    }

    func testConstantScheduleTwoRoundsByHand() throws {
        var fedex = try FedExDistribution(sizes: [3], settings: .init(schedule: .constant, baselineDiscount: 0.5))
        // Round 1: weights 1:3 -> 0.25, 0.75; baseline 0; theta = 1/3 each.
        // grad = [0.25 * 2 / (1/3), 0, 0.75 * 1 / (1/3)] = [1.5, 0, 2.25]; eta = sqrt(2 ln 3).
        let step1 = try XCTUnwrap(try fedex.update([
            FedExReport(indices: [0], loss: 2, weight: 1),
            FedExReport(indices: [2], loss: 1, weight: 3),
        ]))
        XCTAssertEqual(step1.baseline, 0)
        XCTAssertEqual(step1.meanLoss, 1.25, accuracy: 1e-15)
        assertProbabilities(step1.gradients[0], [1.5, 0, 2.25])
        let eta = (2 * log(3.0)).squareRoot()
        let unnormalised = [exp(-eta * 1.5), 1, exp(-eta * 2.25)]
        let total = unnormalised.reduce(0, +)
        assertProbabilities(fedex.categoricals[0].probabilities, unnormalised.map { $0 / total })
        assertProbabilities(fedex.categoricals[0].probabilities,
                            [0.09462354860238092, 0.8742462480170449, 0.031130203380574182])
        // Round 2: baseline = 1.25 (one past round); weights 2:2:4.
        let step2 = try XCTUnwrap(try fedex.update([
            FedExReport(indices: [1], loss: 0.5, weight: 2),
            FedExReport(indices: [1], loss: 1.5, weight: 2),
            FedExReport(indices: [0], loss: 3.0, weight: 4),
        ]))
        XCTAssertEqual(step2.baseline, 1.25, accuracy: 1e-15)
        assertProbabilities(fedex.categoricals[0].probabilities,
                            [9.485551658738446e-08, 0.971999160192688, 0.028000744951795397], accuracy: 1e-13)
        XCTAssertEqual(fedex.entropy, 0.12772397926992177, accuracy: 1e-12)
        XCTAssertEqual(fedex.lossHistory, [1.25, 0.25 * 0.5 + 0.25 * 1.5 + 0.5 * 3.0])
        // Next baseline with lambda = 0.5: (0.5 * 1.25 + 2.0) / 1.5.
        XCTAssertEqual(fedex.baseline, (0.5 * 1.25 + 2.0) / 1.5, accuracy: 1e-15)
        XCTAssertEqual(fedex.mostLikely, [1])
    }

    func testAggressiveScheduleOnAGridMovesEachCategoricalByItsOwnGradient() throws {
        var fedex = try FedExDistribution(sizes: [2, 2], settings: .init(schedule: .aggressive, baselineDiscount: 0.9))
        let step = try XCTUnwrap(try fedex.update([
            FedExReport(indices: [0, 1], loss: 1, weight: 1),
            FedExReport(indices: [1, 1], loss: 3, weight: 1),
        ]))
        // First categorical: grad = [0.5 * 1 / 0.5, 0.5 * 3 / 0.5] = [1, 3]; eta = eta0 / 3.
        // Second: both drew 1, grad = [0, 4]; eta = eta0 / 4.
        assertProbabilities(step.gradients[0], [1, 3])
        assertProbabilities(step.gradients[1], [0, 4])
        let eta0 = (2 * log(2.0)).squareRoot()
        assertProbabilities(step.stepSizes, [eta0 / 3, eta0 / 4])
        assertProbabilities(fedex.categoricals[0].probabilities, [0.6867438224128897, 0.3132561775871104])
        assertProbabilities(fedex.categoricals[1].probabilities, [0.7644817994035712, 0.23551820059642886])
        XCTAssertEqual(fedex.entropy, 1.1675398091319567, accuracy: 1e-12)
    }

    func testInverseSqrtScheduleAndGivenEtaZero() throws {
        var fedex = try FedExDistribution(sizes: [4], settings: .init(schedule: .inverseSqrt, eta0: 0.7, baselineDiscount: 1))
        try fedex.update([FedExReport(indices: [3], loss: 1, weight: 1)])
        assertProbabilities(fedex.categoricals[0].probabilities,
                            [0.32671089663836006, 0.32671089663836006, 0.32671089663836006, 0.01986731008491979])
        let step = try XCTUnwrap(try fedex.update([
            FedExReport(indices: [3], loss: 2, weight: 1),
            FedExReport(indices: [2], loss: 0, weight: 1),
        ]))
        XCTAssertEqual(step.stepSizes[0], 0.7 / 2.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(step.baseline, 1)
        assertProbabilities(fedex.categoricals[0].probabilities,
                            [0.24195717981471887, 0.24195717981471887, 0.5160855831303512, 5.724021116353454e-08], accuracy: 1e-13)
    }

    func testDiscountedMeanWeightsRecentRoundsMost() {
        XCTAssertEqual(FedExDistribution.discountedMean([], discount: 0.5), 0)
        XCTAssertEqual(FedExDistribution.discountedMean([4, 2, 1], discount: 0), 1, "lambda 0: the latest")
        XCTAssertEqual(FedExDistribution.discountedMean([4, 2, 1], discount: 1), 7.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(FedExDistribution.discountedMean([4, 2, 1], discount: 0.5), (0.25 * 4 + 0.5 * 2 + 1) / 1.75, accuracy: 1e-15)
    }

    func testFreezesBelowTheEntropyCutoffAndThenDrawsTheMostLikely() throws {
        var fedex = try FedExDistribution(sizes: [3], settings: .init(schedule: .constant, entropyCutoff: 0.5))
        let step = try XCTUnwrap(try fedex.update([
            FedExReport(indices: [0], loss: 2, weight: 1),
            FedExReport(indices: [2], loss: 1, weight: 3),
        ]))
        // Entropy of [0.0946, 0.8742, 0.0311] is about 0.45 < 0.5.
        XCTAssertTrue(step.froze)
        XCTAssertTrue(fedex.isFrozen)
        let frozen = fedex
        XCTAssertNil(try fedex.update([FedExReport(indices: [0], loss: 0, weight: 1)]), "frozen: no update")
        XCTAssertEqual(fedex, frozen)
        var stream = RandomStream(seed: 1)
        for _ in 0 ..< 20 { XCTAssertEqual(fedex.draw(&stream), [1]) }
        XCTAssertEqual(fedex.mostLikelyProbability, 0.8742462480170449, accuracy: 1e-12)
    }

    func testEqualLossesAtTheBaselineLeaveTheDistributionUnchanged() throws {
        var fedex = try FedExDistribution(sizes: [3], settings: .init(schedule: .aggressive, baselineDiscount: 0))
        try fedex.update([FedExReport(indices: [0], loss: 1, weight: 1), FedExReport(indices: [1], loss: 3, weight: 1)])
        let before = fedex.categoricals
        let step = try XCTUnwrap(try fedex.update([FedExReport(indices: [2], loss: 2, weight: 5)]))
        XCTAssertEqual(step.stepSizes, [0], "aggressive step on a zero gradient is skipped")
        XCTAssertEqual(fedex.categoricals, before)
    }

    func testDivergedClientCountsAsTheRoundsWorstLoss() throws {
        var withInfinity = try FedExDistribution(sizes: [2], settings: .init(schedule: .constant))
        var withWorst = withInfinity
        try withInfinity.update([FedExReport(indices: [0], loss: .infinity, weight: 1), FedExReport(indices: [1], loss: 2, weight: 1)])
        try withWorst.update([FedExReport(indices: [0], loss: 2, weight: 1), FedExReport(indices: [1], loss: 2, weight: 1)])
        XCTAssertEqual(withInfinity, withWorst)
        XCTAssertTrue(withInfinity.categoricals[0].probabilities.allSatisfy(\.isFinite))
        XCTAssertNil(try withInfinity.update([FedExReport(indices: [0], loss: .nan, weight: 1)]), "nothing finite: skipped")
    }

    func testDrawsFollowTheDistributionAndTheStream() throws {
        var fedex = try FedExDistribution(sizes: [3], settings: .init(schedule: .constant))
        try fedex.update([FedExReport(indices: [0], loss: 2, weight: 1), FedExReport(indices: [2], loss: 1, weight: 3)])
        var stream = RandomStream(seed: 3)
        var counts = [0, 0, 0]
        for _ in 0 ..< 20_000 { counts[fedex.draw(&stream)[0]] += 1 }
        XCTAssertEqual(Double(counts[0]) / 20_000, 0.0946, accuracy: 0.01)
        XCTAssertEqual(Double(counts[1]) / 20_000, 0.8742, accuracy: 0.01)
        var a = RandomStream(seed: 77), b = RandomStream(seed: 77)
        XCTAssertEqual((0 ..< 50).map { _ in fedex.draw(&a) }, (0 ..< 50).map { _ in fedex.draw(&b) })
    }

    func testBadSettingsAndReports() throws {
        assertFederatedError("fedex.baseline_discount: must be in [0, 1], got 1.5") {
            try FedExDistribution(sizes: [2], settings: .init(baselineDiscount: 1.5))
        }
        assertFederatedError("fedex.eta0: must be a positive number") {
            try FedExDistribution(sizes: [2], settings: .init(eta0: 0))
        }
        var fedex = try FedExDistribution(sizes: [2], settings: .init())
        assertFederatedError("do not fit categoricals of sizes [2]") {
            try fedex.update([FedExReport(indices: [2], loss: 1, weight: 1)])
        }
        assertFederatedError("FedEx needs validation samples") {
            try fedex.update([FedExReport(indices: [1], loss: 1, weight: 0)])
        }
    }

    func testCodableRoundTripKeepsEveryBit() throws {
        var fedex = try FedExDistribution(sizes: [3, 2], settings: .init(schedule: .inverseSqrt))
        try fedex.update([FedExReport(indices: [0, 1], loss: 0.7, weight: 3), FedExReport(indices: [2, 0], loss: 1.3, weight: 1)])
        let decoded = try JSONDecoder().decode(FedExDistribution.self, from: JSONEncoder().encode(fedex))
        XCTAssertEqual(decoded, fedex)
    }

    // MARK: Spaces

    func testGridAndWholeConfigurationSpacesMapDrawsToHyperparameters() throws {
        let grid = try FedExSpace.grid([("learning_rate", [0.1, 0.01]), ("epochs", [1, 2, 5]), ("momentum", [0, 0.9])])
        XCTAssertEqual(grid.sizes, [2, 3, 2])
        XCTAssertEqual(grid.configurationCount, 12)
        let drawn = try grid.hyperparameters([1, 2, 1], base: LocalHyperparameters(batchSize: 32))
        XCTAssertEqual(drawn, LocalHyperparameters(learningRate: 0.01, momentum: 0.9, epochs: 5, batchSize: 32))

        let whole = try FedExSpace.configurations([["learning_rate": 0.1, "batch_size": 16], ["learning_rate": 0.5, "mu": 0.01]])
        XCTAssertEqual(whole.sizes, [2])
        XCTAssertEqual(try whole.hyperparameters([1], base: LocalHyperparameters()),
                       LocalHyperparameters(learningRate: 0.5, proximalMu: 0.01))
    }

    func testBadSpacesEndInOneLine() {
        assertFederatedError("fedex.grid.epochs[1]: epochs must be a whole number of at least 1, got 1.5") {
            try FedExSpace.grid([("epochs", [1, 1.5])])
        }
        assertFederatedError("unknown local hyperparameter 'dropout'") { try FedExSpace.grid([("dropout", [0.1])]) }
        assertFederatedError("fedex.grid.learning_rate: needs at least one value") { try FedExSpace.grid([("learning_rate", [])]) }
        assertFederatedError("fedex.grid.learning_rate: is given twice") { try FedExSpace.grid([("learning_rate", [0.1]), ("learning_rate", [0.2])]) }
        assertFederatedError("configuration[0].learning_rate: must be a positive number, got -1.0") {
            try FedExSpace.configurations([["learning_rate": -1]])
        }
    }
}
