import CohortTensor
import XCTest
@testable import CohortNAS

/// GAEA's exponentiated-gradient step and DARTS' softmax parameters.
final class ArchitectureWeightsTests: XCTestCase {
    func testExponentiatedGradientStepMatchesHandComputation() {
        // w_k = 0.2 e^{-0.1 g_k} / sum_j 0.2 e^{-0.1 g_j}, with g = (1, 0, -1, 2, 0.5):
        // e^{-0.1} = 0.904837, 1, e^{0.1} = 1.105171, e^{-0.2} = 0.818731, e^{-0.05} = 0.951229,
        // sum 4.779969, so w = (0.189298, 0.209206, 0.231209, 0.171284, 0.199003).
        var w = [0.2, 0.2, 0.2, 0.2, 0.2]
        SimplexArchitectureWeights.exponentiatedGradientStep(&w, gradient: [1, 0, -1, 2, 0.5], eta: 0.1, clamp: 1e-5, operations: 5)
        let expected = [0.18929777789213792, 0.2092063989827341, 0.2312088280310485, 0.17128371258786662, 0.19900328250621294]
        for (a, b) in zip(w, expected) { XCTAssertEqual(a, b, accuracy: 1e-15) }
    }

    func testClampBeforeRenormalizing() {
        // 0.01 e^{-20} = 2.1e-11 is clamped to 1e-5; the sum is 0.96 + 1e-5 + 0.03 = 0.99001.
        var w = [0.96, 0.01, 0.01, 0.01, 0.01]
        SimplexArchitectureWeights.exponentiatedGradientStep(&w, gradient: [0, 200, 0, 0, 0], eta: 0.1, clamp: 1e-5, operations: 5)
        XCTAssertEqual(w[0], 0.96 / 0.99001, accuracy: 1e-15)
        XCTAssertEqual(w[1], 1e-5 / 0.99001, accuracy: 1e-18)
        for k in 2..<5 { XCTAssertEqual(w[k], 0.01 / 0.99001, accuracy: 1e-15) }
    }

    func testEdgesAreIndependentSimplices() {
        let gaea = SimplexArchitectureWeights(eta: 0.5, clamp: 1e-5)
        XCTAssertEqual(gaea.weights, Array(repeating: 0.2, count: 30))
        var gradient = [Float](repeating: 0, count: 30)
        gradient[7] = 3   // edge 1, operation 2
        gaea.update(gradient: gradient)
        for e in 0..<6 where e != 1 { XCTAssertEqual(gaea.weights(edge: e), Array(repeating: 0.2, count: 5)) }
        let edge1 = gaea.weights(edge: 1)
        XCTAssertLessThan(edge1[2], 0.2)
        XCTAssertEqual(edge1[0], edge1[1])
        XCTAssertEqual(edge1.reduce(0, +), 1, accuracy: 1e-15)
    }

    func testWeightsStayOnTheSimplexUnderLargeRandomGradients() {
        let gaea = SimplexArchitectureWeights(eta: 0.3, clamp: 1e-5)
        var rng = RandomStream(seed: 11)
        for _ in 0..<2_000 {
            gaea.update(gradient: (0..<30).map { _ in Float(rng.normal() * 50) })
            for e in 0..<6 {
                let w = gaea.weights(edge: e)
                XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
                XCTAssertTrue(w.allSatisfy { $0 > 0 && $0 <= 1 }, "\(w)")
            }
        }
    }

    func testMixtureTensorCarriesTheWeightsAndTakesGradients() {
        let gaea = SimplexArchitectureWeights(weights: (0..<30).map { Double($0 % 5 + 1) / 15 }, eta: 0.1, clamp: 1e-5)
        let tape = Tape()
        let (w, variable) = gaea.mixture(on: tape, trainable: true)
        XCTAssertEqual(w.shape, [6, 5])
        XCTAssertEqual(w.toArray(), gaea.weights.map(Float.init))
        XCTAssertTrue(variable === w)
        let loss = tape.sum(tape.mul(w, tape.tensor((0..<30).map(Float.init), shape: [6, 5])))
        tape.backward(loss)
        XCTAssertEqual(variable?.gradient, (0..<30).map(Float.init))
        XCTAssertNil(gaea.mixture(on: tape, trainable: false).variable)
    }

    func testDartsLogitsStartNearZeroAndAdamMovesThemAgainstTheGradient() throws {
        var settings = NASConfig.DARTS()
        settings.weightDecay = 0
        let darts = try SoftmaxArchitectureWeights(seed: 4, settings: settings)
        let logits = darts.learnedValues
        XCTAssertEqual(logits.count, 30)
        XCTAssertTrue(logits.allSatisfy { abs($0) < 5e-3 }, "\(logits)")
        XCTAssertGreaterThan(logits.map(abs).max()!, 1e-4)   // drawn, not zero
        for e in 0..<6 {
            XCTAssertEqual(darts.weights(edge: e).reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertTrue(darts.weights(edge: e).allSatisfy { abs($0 - 0.2) < 2e-3 })
        }
        // Adam's first step is lr * g / (|g| + eps'): lr against the sign of the gradient.
        let gradient: [Float] = (0..<30).map { $0 % 2 == 0 ? 0.5 : -2 }
        darts.update(gradient: gradient)
        for (i, (before, after)) in zip(logits, darts.learnedValues).enumerated() {
            XCTAssertEqual(after - before, i % 2 == 0 ? -3e-4 : 3e-4, accuracy: 1e-8)
        }
        // Same seed, same logits.
        XCTAssertEqual(try SoftmaxArchitectureWeights(seed: 4, settings: settings).learnedValues, logits)
        XCTAssertNotEqual(try SoftmaxArchitectureWeights(seed: 5, settings: settings).learnedValues, logits)
    }

    func testDartsMixtureIsTheSoftmaxOfTheLogits() throws {
        let darts = try SoftmaxArchitectureWeights(seed: 2, settings: NASConfig.DARTS())
        let tape = Tape()
        let (w, variable) = darts.mixture(on: tape, trainable: true)
        XCTAssertEqual(variable?.toArray(), darts.learnedValues.map(Float.init))
        for (a, b) in zip(w.toArray(), darts.weights) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
    }

    func testDerivePicksTheStrongestOperationAndAvoidsDisconnectedCells() {
        var weights = [Double](repeating: 0.1, count: 30)
        let strongest: [CellOperation] = [.convolution3x3, .averagePool3x3, .skipConnect, .convolution1x1, .none, .convolution3x3]
        for (e, op) in strongest.enumerated() { weights[e * 5 + op.index] = 0.6 }
        let (cell, excluded) = SimplexArchitectureWeights(weights: weights, eta: 0.1, clamp: 1e-5).derive()
        XCTAssertEqual(cell.operations, strongest)
        XCTAssertFalse(excluded)

        // `none` strongest everywhere into node 3: leave `none` out, take the runner-up.
        var cut = [Double](repeating: 0.1, count: 30)
        for e in 0..<6 { cut[e * 5 + 0] = 0.5; cut[e * 5 + 3] = 0.2 }
        let (fallback, excludedNone) = SimplexArchitectureWeights(weights: cut, eta: 0.1, clamp: 1e-5).derive()
        XCTAssertTrue(excludedNone)
        XCTAssertEqual(fallback.operations, Array(repeating: .convolution3x3, count: 6))
    }
}
