import Foundation
import XCTest
@testable import CohortFederated

final class ServerOptimizerTests: XCTestCase {
    func testFedAvgTakesTheWeightedAverageExactly() throws {
        var optimizer = try ServerOptimizer(settings: .fedAvg, parameterCount: 3)
        var global: [Float] = [1, 2, 3]
        let average: [Float] = [0.1, 0.7, -0.3]
        optimizer.step(global: &global, average: average)
        XCTAssertEqual(global, average, "bit for bit")
        XCTAssertEqual(optimizer.round, 1)
        XCTAssertTrue(optimizer.firstMoment.isEmpty && optimizer.secondMoment.isEmpty, "no state to keep")
    }

    func testSGDWithMomentumAndDecayByHand() throws {
        let settings = ServerOptimizerSettings(kind: .sgd, learningRate: 0.5, momentum: 0.9, decay: 0.5)
        var optimizer = try ServerOptimizer(settings: settings, parameterCount: 2)
        var w: [Float] = [1, 2]
        // Round 0: g = [0.5, 1], m = g, w -= 0.5 m.
        optimizer.step(global: &w, average: [0.5, 1])
        XCTAssertEqual(w, [0.75, 1.5])
        // Round 1: g = [0, 0.5], m = 0.9 [0.5, 1] + g = [0.45, 1.4], lr = 0.25.
        optimizer.step(global: &w, average: [0.75, 1])
        XCTAssertEqual(optimizer.firstMoment[0], 0.45, accuracy: 1e-7)
        XCTAssertEqual(optimizer.firstMoment[1], 1.4, accuracy: 1e-7)
        XCTAssertEqual(w[0], 0.6375, accuracy: 1e-6)
        XCTAssertEqual(w[1], 1.15, accuracy: 1e-6)
        XCTAssertEqual(settings.learningRate(round: 3), 0.0625)
    }

    func testServerLearningRateBelowOneMovesPartWay() throws {
        var optimizer = try ServerOptimizer(settings: .init(learningRate: 0.25), parameterCount: 1)
        var w: [Float] = [4]
        optimizer.step(global: &w, average: [0])
        XCTAssertEqual(w, [3])
    }

    /// The paper's update in Double: Delta = avg - w, m = b1 m + (1 - b1) Delta, v per
    /// method, w += lr m / (sqrt(v) + tau), with v starting at tau^2.
    private func reference(_ kind: ServerOptimizerSettings.Kind, w0: Double, averages: [Double],
                           lr: Double, b1: Double, b2: Double, tau: Double) -> Double {
        var w = w0, m = 0.0, v = tau * tau
        for avg in averages {
            let delta = avg - w, d2 = delta * delta
            m = b1 * m + (1 - b1) * delta
            switch kind {
            case .adagrad: v += d2
            case .adam: v = b2 * v + (1 - b2) * d2
            case .yogi: v -= (1 - b2) * d2 * (v - d2 > 0 ? 1 : -1)
            case .sgd: XCTFail("not adaptive")
            }
            w += lr * m / (v.squareRoot() + tau)
        }
        return w
    }

    func testAdaptiveMethodsFollowReddiEtAlAlgorithmTwo() throws {
        for kind in [ServerOptimizerSettings.Kind.adagrad, .adam, .yogi] {
            let settings = ServerOptimizerSettings(kind: kind, learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3)
            var optimizer = try ServerOptimizer(settings: settings, parameterCount: 1)
            var w: [Float] = [1]
            // The third average sits just below w, so Delta^2 < v and Yogi's sign flips.
            var averages: [Double] = []
            for target in [0.8, 0.9] {
                averages.append(target)
                optimizer.step(global: &w, average: [Float(target)])
            }
            let nearby = Double(w[0]) - 0.001
            averages.append(nearby)
            optimizer.step(global: &w, average: [Float(nearby)])
            let expected = reference(kind, w0: 1, averages: averages, lr: 0.1, b1: 0.9, b2: 0.99, tau: 1e-3)
            XCTAssertEqual(Double(w[0]), expected, accuracy: 2e-6, "\(kind)")
        }
        // One step by hand for FedAdam: Delta = -0.2, m = -0.02, v = 0.99e-6 + 0.01 * 0.04.
        var adam = try ServerOptimizer(settings: .init(kind: .adam, learningRate: 0.1), parameterCount: 1)
        var w: [Float] = [1]
        adam.step(global: &w, average: [0.8])
        let v = 0.99e-6 + 0.01 * 0.04
        XCTAssertEqual(Double(adam.secondMoment[0]), v, accuracy: 1e-9)
        XCTAssertEqual(Double(w[0]), 1 + 0.1 * -0.02 / (v.squareRoot() + 1e-3), accuracy: 1e-6)
    }

    func testYogiGrowsSecondMomentMoreGentlyThanAdagrad() throws {
        var yogi = try ServerOptimizer(settings: .init(kind: .yogi, learningRate: 0.1), parameterCount: 1)
        var adagrad = try ServerOptimizer(settings: .init(kind: .adagrad, learningRate: 0.1), parameterCount: 1)
        var a: [Float] = [0], b: [Float] = [0]
        yogi.step(global: &a, average: [1])
        adagrad.step(global: &b, average: [1])
        XCTAssertEqual(yogi.secondMoment[0], 1e-6 + 0.01, accuracy: 1e-8)
        XCTAssertEqual(adagrad.secondMoment[0], 1e-6 + 1, accuracy: 1e-6)
    }

    func testBadSettingsEndInOneLine() {
        assertFederatedError("server.lr: must be a positive number, got 0.0") {
            try ServerOptimizer(settings: .init(learningRate: 0), parameterCount: 1)
        }
        assertFederatedError("server.momentum: must be in [0, 1), got 1.0") {
            try ServerOptimizer(settings: .init(momentum: 1), parameterCount: 1)
        }
        assertFederatedError("server.decay: must be in (0, 1], got 1.5") {
            try ServerOptimizer(settings: .init(decay: 1.5), parameterCount: 1)
        }
        assertFederatedError("server.beta2: must be in [0, 1)") {
            try ServerOptimizer(settings: .init(kind: .adam, beta2: 1), parameterCount: 1)
        }
        assertFederatedError("server.tau: must be a positive number") {
            try ServerOptimizer(settings: .init(kind: .yogi, tau: 0), parameterCount: 1)
        }
    }
}
