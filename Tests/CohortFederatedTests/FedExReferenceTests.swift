import CohortCluster
import CohortTensor
import Foundation
import XCTest
@testable import CohortFederated

/// FedEx's reference code where it differs from the defaults: one configuration and
/// k-1 perturbations of it, clients drawn with replacement, a baseline discount drawn
/// per arm, and fine-tuning with configurations sampled from theta.
final class FedExReferenceTests: XCTestCase {
    private func config(fedex: String, sampling: String = "{clients_per_round: 4}", evaluation: String = "{every: 1}") throws -> FedConfig {
        try FedConfig.parse("""
        seed: 11
        rounds: 3
        data: {source: synthetic, alpha: 1, beta: 1}
        model: {type: logistic}
        sampling: \(sampling)
        local: {learning_rate: 0.01, epochs: 1, batch_size: 10}
        evaluation: \(evaluation)
        fedex: \(fedex)
        """)
    }

    private let ranges = """
    {learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0}, momentum: {type: uniform, low: 0.0, high: 1.0},
     batch_size: {type: choice, values: [8, 16, 32, 64, 128]}}
    """

    /// Every perturbed configuration stays within eps of each range around the arm's
    /// first draw (log scale for the learning rate, one step for the batch size), and
    /// the first draw is the one an independent draw would make.
    func testPerturbedConfigurationsStayWithinEpsilonOfTheFirstDraw() throws {
        let eps = 0.1
        let perturbed = try XCTUnwrap(try config(fedex: "{sample: {configurations: 8, perturbation: \(eps), space: \(ranges)}}").fedex)
        let independent = try XCTUnwrap(try config(fedex: "{sample: {configurations: 8, space: \(ranges)}}").fedex)
        let batches: [Double] = [8, 16, 32, 64, 128]
        var moved = 0
        for arm in 0 ..< 4 {
            let list = try perturbed.space(arm: arm, seed: 11, base: LocalHyperparameters()).categoricals[0].choices
            let first = list[0]
            XCTAssertEqual(list.count, 8)
            XCTAssertEqual(first, try independent.space(arm: arm, seed: 11, base: LocalHyperparameters()).categoricals[0].choices[0])
            for c in list.dropFirst() {
                let lr = try XCTUnwrap(c["learning_rate"]), m = try XCTUnwrap(c["momentum"]), b = try XCTUnwrap(c["batch_size"])
                XCTAssertLessThanOrEqual(abs(log(lr) - log(first["learning_rate"]!)), eps * log(1e4) + 1e-12)
                XCTAssertTrue((1e-4 ... 1).contains(lr))
                XCTAssertLessThanOrEqual(abs(m - first["momentum"]!), eps + 1e-12)
                XCTAssertTrue((0 ... 1).contains(m))
                let step = abs(batches.firstIndex(of: b)! - batches.firstIndex(of: first["batch_size"]!)!)
                XCTAssertLessThanOrEqual(step, 1)
                if c != first { moved += 1 }
            }
        }
        XCTAssertGreaterThan(moved, 20, "the perturbations move")
        // eps = 0: k copies of the first draw.
        let still = try XCTUnwrap(try config(fedex: "{sample: {configurations: 5, perturbation: 0, space: \(ranges)}}").fedex)
        let copies = try still.space(arm: 2, seed: 11, base: LocalHyperparameters()).categoricals[0].choices
        XCTAssertEqual(Set(copies.map { $0.description }).count, 1)
        XCTAssertThrowsError(try config(fedex: "{sample: {values_per_hyperparameter: 3, perturbation: 0.1, space: \(ranges)}}")) { e in
            XCTAssertTrue("\(e)".contains("fedex.sample.perturbation: applies to configurations: k"), "\(e)")
        }
    }

    /// `baseline_discount: random` gives each arm its own lambda in [0, 1], the same on
    /// every call; a number keeps one lambda for all.
    func testRandomBaselineDiscountIsDrawnPerArm() throws {
        let random = try config(fedex: "{grid: {learning_rate: [0.1, 0.01]}, baseline_discount: random}")
        let lambdas = try (0 ..< 6).map { try random.settings(arm: $0, searchConfig: nil).fedex!.settings.baselineDiscount }
        XCTAssertEqual(Set(lambdas).count, 6)
        XCTAssertTrue(lambdas.allSatisfy { (0 ... 1).contains($0) })
        XCTAssertEqual(try random.settings(arm: 3, searchConfig: nil).fedex!.settings.baselineDiscount, lambdas[3])
        let fixed = try config(fedex: "{grid: {learning_rate: [0.1, 0.01]}, baseline_discount: 0.5}")
        XCTAssertEqual(try fixed.settings(arm: 4, searchConfig: nil).fedex!.settings.baselineDiscount, 0.5)
    }

    /// With replacement a client may be drawn twice in a round; it then trains twice,
    /// each occurrence with its own FedEx draw.
    func testClientsWithReplacementRepeatAndTrainOncePerOccurrence() throws {
        let sampler = try ClientSampler(sampling: .init(clientsPerRound: 6, withReplacement: true), population: 8, seed: 2)
        var repeats = 0
        for round in 0 ..< 50 {
            let p = sampler.participants(round: round)
            XCTAssertEqual(p.selected.count, 6)
            XCTAssertEqual(p.contributing, p.selected)
            XCTAssertTrue(p.selected.allSatisfy { (0 ..< 8).contains($0) })
            if Set(p.selected).count < 6 { repeats += 1 }
        }
        // P(6 distinct of 8) = 8!/(2! 8^6) = 0.077: most rounds repeat a client.
        XCTAssertGreaterThan(repeats, 35)

        let data = try smallFederation()
        var settings = RoundSettings(rounds: 4, sampling: ClientSampling(clientsPerRound: 6, withReplacement: true),
                                     local: LocalHyperparameters(learningRate: 0.3, epochs: 1, batchSize: 8), seed: 5)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.001, 0.01, 0.1, 0.3])]), settings: .init())
        let fixed = settings
        let records = try LocalCommunicator.map(ranks: 2) { comm -> [RoundRecord] in
            let engine = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3), communicator: comm)
            return try (0 ..< 4).map { _ in try engine.runRound() }
        }
        XCTAssertEqual(records[0], records[1])
        var sawRepeatWithOwnDraw = false
        for r in records[0] {
            XCTAssertEqual(r.localSettings.count, 6, "one local training per occurrence")
            XCTAssertEqual(r.validationLosses.count, 6)
            for i in r.participants.contributing.indices {
                for j in r.participants.contributing.indices where j > i && r.participants.contributing[i] == r.participants.contributing[j] {
                    if r.localSettings[i] != r.localSettings[j] { sawRepeatWithOwnDraw = true }
                }
            }
        }
        XCTAssertTrue(sawRepeatWithOwnDraw, "a repeated client draws its configuration again")
        XCTAssertThrowsError(try config(fedex: "{grid: {learning_rate: [0.1, 0.01]}}", sampling: "{clients_per_round: 4, with_replacement: true, drop_rate: 0.5}")) { e in
            XCTAssertTrue("\(e)".contains("sampling.with_replacement: cannot be combined with drop_rate > 0"), "\(e)")
        }
    }

    /// Fine-tuning with `sampled`: clients fine-tune with configurations drawn from theta,
    /// so a uniform theta over two learning rates scores differently from its most
    /// likely one, and identically on every rank count.
    func testSampledFineTuningDrawsEachClientsConfigurationFromTheta() throws {
        let data = try smallFederation().holdingOut(2, seed: 3)
        var settings = RoundSettings(rounds: 1, sampling: ClientSampling(clientsPerRound: 4),
                                     local: LocalHyperparameters(learningRate: 0.3, epochs: 1, batchSize: 8), seed: 5,
                                     fineTuneForEvaluation: true)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.001, 1.0])]),
                                    settings: .init(schedule: .constant, eta0: 1e-12))
        func tuned(_ choice: FineTuneConfiguration, ranks: Int) throws -> EvaluationRecord {
            var s = settings
            s.fineTuneConfiguration = choice
            let fixed = s
            return try LocalCommunicator.map(ranks: ranks) { comm -> EvaluationRecord in
                let engine = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3), communicator: comm)
                try engine.runRound()
                return try engine.evaluateFineTuned()
            }[0]
        }
        let mostLikely = try tuned(.mostLikely, ranks: 1), sampled = try tuned(.sampled, ranks: 1)
        XCTAssertNotEqual(mostLikely.test.lossSum, sampled.test.lossSum)
        XCTAssertEqual(try tuned(.sampled, ranks: 3).test.lossSum, sampled.test.lossSum, accuracy: 1e-5 * sampled.test.lossSum, "the same draws; the global model differs by float rounding")
        let parsed = try config(fedex: "{grid: {learning_rate: [0.1, 0.01]}}", evaluation: "{fine_tune: true, fine_tune_configuration: sampled}")
        XCTAssertEqual(parsed.base.fineTuneConfiguration, .sampled)
    }
}
