import CohortCluster
import CohortData
import CohortTensor
import XCTest
@testable import CohortFederated

final class FederatedRoundsTests: XCTestCase {
    /// What every rank saw: the global model after each round, the records and evaluations.
    struct RankHistory: Sendable {
        var globals: [[Float]] = []
        var records: [RoundRecord] = []
        var evaluations: [EvaluationRecord] = []
        var fedex: FedExDistribution?
        var state: RoundState?
    }

    /// Runs `rounds` rounds on `ranks` in-process ranks, optionally from a saved state.
    private func run(ranks: Int, settings: RoundSettings, data: FederatedDataset, rounds: Int? = nil,
                     from state: RoundState? = nil) throws -> [RankHistory] {
        try LocalCommunicator.map(ranks: ranks) { comm in
            let model = CentroidModel(width: data.featureCount, classCount: data.classCount)
            let engine = try state.map {
                try FederatedRounds(settings: settings, data: data, model: model, communicator: comm, state: $0)
            } ?? FederatedRounds(settings: settings, data: data, model: model, communicator: comm)
            var history = RankHistory()
            for _ in 0 ..< (rounds ?? settings.rounds) where !engine.isFinished {
                history.records.append(try engine.runRound())
                history.globals.append(engine.global)
                if engine.isEvaluationDue { history.evaluations.append(try engine.evaluate()) }
            }
            history.fedex = engine.fedex
            history.state = engine.state
            return history
        }
    }

    private func fedAvg(rounds: Int = 4, perRound: Int = 3, lr: Double = 0.3, batch: Int = 8, epochs: Int = 2,
                        seed: UInt64 = 5) -> RoundSettings {
        RoundSettings(rounds: rounds, sampling: ClientSampling(clientsPerRound: perRound),
                      local: LocalHyperparameters(learningRate: lr, epochs: epochs, batchSize: batch), seed: seed)
    }

    // MARK: FedAvg by hand

    func testFedAvgIsTheSampleWeightedMeanOfTheClientsModels() throws {
        // lr 1, one epoch, one full batch: each client ends exactly at the mean of its
        // training samples, and the new global model is their n_k-weighted mean.
        let data = try smallFederation()
        let settings = fedAvg(rounds: 1, perRound: 4, lr: 1, batch: 10_000, epochs: 1)
        let history = try run(ranks: 2, settings: settings, data: data)[0]
        let chosen = history.records[0].participants.contributing
        XCTAssertEqual(chosen.count, 4)
        var sums = [Double](repeating: 0, count: 3)
        var total = 0.0
        for k in chosen {
            let train = data.clients[k].train
            for i in 0 ..< train.count { for j in 0 ..< 3 { sums[j] += Double(train.features[i * 3 + j]) } }
            total += Double(train.count)
        }
        for j in 0 ..< 3 { XCTAssertEqual(Double(history.globals[0][j]), sums[j] / total, accuracy: 1e-5) }
        XCTAssertEqual(history.records[0].aggregatedWeight, total)
    }

    func testEveryRankHoldsTheSameModelAndSameSeedGivesTheSameBits() throws {
        let data = try smallFederation()
        let settings = fedAvg()
        let first = try run(ranks: 3, settings: settings, data: data)
        let second = try run(ranks: 3, settings: settings, data: data)
        for rank in 1 ..< 3 { XCTAssertEqual(first[rank].globals, first[0].globals, "rank \(rank)") }
        XCTAssertEqual(first[0].globals, second[0].globals, "bit-identical rerun")
        XCTAssertEqual(first[0].records, second[0].records)
        XCTAssertEqual(first[0].evaluations, second[0].evaluations)
        let otherSeed = try run(ranks: 3, settings: fedAvg(seed: 6), data: data)
        XCTAssertNotEqual(otherSeed[0].globals.last, first[0].globals.last)
    }

    func testRankCountsAgreeToFloatRounding() throws {
        let data = try smallFederation()
        let settings = fedAvg(rounds: 6, perRound: 5)
        let one = try run(ranks: 1, settings: settings, data: data)[0]
        for ranks in [3, 5] {
            let many = try run(ranks: ranks, settings: settings, data: data)[0]
            XCTAssertEqual(many.records.map(\.participants), one.records.map(\.participants), "\(ranks) ranks")
            for (a, b) in zip(one.globals, many.globals) {
                for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(ranks) ranks") }
            }
            XCTAssertEqual(many.evaluations.map(\.test.count), one.evaluations.map(\.test.count))
        }
    }

    func testResumingFromAStateEqualsAnUninterruptedRun() throws {
        let data = try smallFederation()
        var settings = fedAvg(rounds: 6)
        settings.server = ServerOptimizerSettings(kind: .adam, learningRate: 0.05)
        let whole = try run(ranks: 2, settings: settings, data: data)[0]
        let firstHalf = try run(ranks: 2, settings: settings, data: data, rounds: 3)[0]
        let state = try XCTUnwrap(firstHalf.state)
        XCTAssertEqual(state.completedRounds, 3)
        let secondHalf = try run(ranks: 2, settings: settings, data: data, from: state)[0]
        XCTAssertEqual(firstHalf.globals + secondHalf.globals, whole.globals, "bit for bit")
        XCTAssertEqual(secondHalf.state, whole.state)
    }

    // MARK: Local training inputs

    func testProximalTermKeepsClientsNearTheGlobalModel() throws {
        // With a huge mu a client barely leaves the anchor, so the global model barely moves.
        let data = try smallFederation()
        var settings = fedAvg(rounds: 1, lr: 0.02, epochs: 20)
        let free = try run(ranks: 1, settings: settings, data: data)[0].globals[0]
        settings.local.proximalMu = 50
        let held = try run(ranks: 1, settings: settings, data: data)[0].globals[0]
        let initial = CentroidModel(width: data.featureCount, classCount: data.classCount)
        initial.initializeParameters(RandomStream(seed: 5, stream: [StreamPurpose.modelInit]))
        let start = Array(initial.parameters)
        let moveFree = zip(free, start).map { abs($0 - $1) }.reduce(0, +)
        let moveHeld = zip(held, start).map { abs($0 - $1) }.reduce(0, +)
        XCTAssertLessThan(moveHeld, moveFree / 10, "the fixed point sits 1/51 of the way to the data")
    }

    func testDroppedStragglersAreLeftOutAndPartialWorkRunsFewerEpochs() throws {
        let data = try smallFederation()
        var settings = fedAvg(rounds: 3, perRound: 6, epochs: 5)
        settings.sampling.dropRate = 0.5
        let dropped = try run(ranks: 2, settings: settings, data: data)[0]
        for record in dropped.records {
            XCTAssertEqual(record.participants.stragglers.count, 3)
            XCTAssertEqual(record.participants.contributing.count, 3)
            let weight = record.participants.contributing.reduce(0) { $0 + data.clients[$1].train.count }
            XCTAssertEqual(record.aggregatedWeight, Double(weight))
        }
        settings.sampling.stragglers = .partialWork
        let partial = try run(ranks: 2, settings: settings, data: data)[0]
        for record in partial.records {
            XCTAssertEqual(record.participants.contributing.count, 6)
            XCTAssertEqual(record.aggregatedWeight,
                           Double(record.participants.selected.reduce(0) { $0 + data.clients[$1].train.count }))
        }
        XCTAssertNotEqual(partial.globals.last, dropped.globals.last)
    }

    // MARK: Evaluation

    func testEvaluationPoolsEveryClientsTestAndValidationSamples() throws {
        let data = try smallFederation().holdingOut(2, seed: 3)
        var settings = fedAvg(rounds: 4)
        settings.evaluateEvery = 2
        for ranks in [1, 4] {
            let history = try run(ranks: ranks, settings: settings, data: data)[0]
            XCTAssertEqual(history.evaluations.map(\.afterRound), [2, 4])
            let evaluation = try XCTUnwrap(history.evaluations.last)
            XCTAssertEqual(evaluation.test.count, data.testSampleCount)
            XCTAssertEqual(evaluation.validation.count, data.clients.reduce(0) { $0 + $1.validation.count })
            XCTAssertEqual(evaluation.heldOut.count, data.heldOutClients.reduce(0) { $0 + $1.test.count })
            XCTAssertGreaterThan(evaluation.heldOut.count, 0)
            // Held-out clients are never sampled.
            for record in history.records { XCTAssertTrue(record.participants.selected.allSatisfy { $0 < data.clients.count }) }
        }
    }

    func testFineTunedEvaluationScoresEveryClientsOwnModel() throws {
        // lr 1, one full batch, one epoch: each client's fine-tuned model is the mean of its
        // training samples, whatever the global model; its test loss follows by hand.
        let data = try smallFederation().holdingOut(2, seed: 3)
        var settings = fedAvg(rounds: 2, lr: 1, batch: 10_000, epochs: 1)
        settings.fineTuneForEvaluation = true
        let fixed = settings
        var expected = 0.0, heldOutExpected = 0.0
        for (group, clients) in [(0, data.clients), (1, data.heldOutClients)] {
            for client in clients {
                var mean = [Double](repeating: 0, count: 3)
                for i in 0 ..< client.train.count { for j in 0 ..< 3 { mean[j] += Double(client.train.features[i * 3 + j]) / Double(client.train.count) } }
                for i in 0 ..< client.test.count {
                    let loss = (0 ..< 3).reduce(0.0) { $0 + 0.5 * pow(mean[$1] - Double(client.test.features[i * 3 + $1]), 2) }
                    if group == 0 { expected += loss } else { heldOutExpected += loss }
                }
            }
        }
        for ranks in [1, 3] {
            let tuned = try LocalCommunicator.map(ranks: ranks) { comm -> EvaluationRecord in
                let engine = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3),
                                                 communicator: comm)
                try engine.runRound()
                return try engine.evaluateFineTuned()
            }[0]
            XCTAssertEqual(tuned.test.count, data.testSampleCount)
            XCTAssertEqual(tuned.test.lossSum, expected, accuracy: 1e-3 * expected)
            XCTAssertEqual(tuned.heldOut.lossSum, heldOutExpected, accuracy: 1e-3 * heldOutExpected)
        }
    }

    func testTunedConfigurationIsFedExsMostLikely() throws {
        let data = try smallFederation()
        var settings = fedAvg(rounds: 6, perRound: 4, epochs: 1)
        settings.fedex = FedExSpace.gridSetup(lr: [0.001, 0.3])
        let fixed = settings
        let configuration = try LocalCommunicator.map(ranks: 1) { comm -> LocalHyperparameters in
            let engine = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3),
                                             communicator: comm)
            while !engine.isFinished { try engine.runRound() }
            return try engine.tunedConfiguration()
        }[0]
        XCTAssertEqual(configuration.learningRate, 0.3)
        XCTAssertEqual(configuration.epochs, 1)
    }

    // MARK: FedEx inside the rounds

    func testFedExLearnsTheSameDistributionOnEveryRank() throws {
        let data = try smallFederation()
        var settings = fedAvg(rounds: 8, perRound: 4, epochs: 1)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.001, 0.3]), ("epochs", [1, 3])]),
                                    settings: .init(schedule: .aggressive), validationLoss: .crossEntropy)
        let histories = try run(ranks: 3, settings: settings, data: data)
        let fedex = try XCTUnwrap(histories[0].fedex)
        for h in histories { XCTAssertEqual(h.fedex, fedex) }
        XCTAssertEqual(fedex.updateCount, 8)
        // Moving far from a random start is better than barely moving: lr 0.3 wins.
        XCTAssertGreaterThan(fedex.categoricals[0].probabilities[1], 0.5)
        for record in histories[0].records {
            XCTAssertEqual(record.validationLosses.count, 4)
            XCTAssertNotNil(record.fedexStep)
            XCTAssertTrue(record.localSettings.allSatisfy { [0.001, 0.3].contains($0.learningRate) && [1, 3].contains($0.epochs) })
        }
        // The first round's draws come from the uniform start, so any rank count draws the same.
        let twoRanks = try run(ranks: 2, settings: settings, data: data, rounds: 1)[0]
        XCTAssertEqual(twoRanks.records[0].localSettings, histories[0].records[0].localSettings)
    }

    func testClientsReportTheirValidationErrorByDefault() throws {
        let data = try smallFederation()
        var settings = fedAvg(rounds: 3, perRound: 4, epochs: 1)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.01, 0.3])]), settings: .init())
        XCTAssertEqual(settings.fedex?.validationLoss, .error)
        let fixed = settings
        let records = try LocalCommunicator.map(ranks: 2) { comm -> [RoundRecord] in
            let engine = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3), communicator: comm)
            return try (0 ..< 3).map { _ in try engine.runRound() }
        }[0]
        for record in records {
            for (client, loss) in zip(record.participants.contributing, record.validationLosses) {
                let n = Double(data.clients[client].validation.count)
                XCTAssertTrue((0 ... 1).contains(loss))
                XCTAssertEqual((loss * n).rounded(), loss * n, accuracy: 1e-4, "an error rate: wrong samples / \(n)")
            }
        }
    }

    func testDifferenceModeReportsTheChangeFromTheGlobalModelsLoss() throws {
        let data = try smallFederation()
        var plain = fedAvg(rounds: 1, perRound: 4, epochs: 1)
        plain.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.05, 0.5])]), settings: .init(), validationLoss: .crossEntropy)
        var difference = plain
        difference.fedex?.reportsDifference = true
        let after = try run(ranks: 2, settings: plain, data: data)[0].records[0]
        let change = try run(ranks: 2, settings: difference, data: data)[0].records[0]
        XCTAssertEqual(change.localSettings, after.localSettings, "the same draws")
        // Round 0's global model is the initial one, drawn from the seed's stream.
        let initial = CentroidModel(width: data.featureCount, classCount: data.classCount)
        initial.initializeParameters(RandomStream(seed: plain.seed, stream: [StreamPurpose.modelInit]))
        XCTAssertEqual(change.validationLosses.count, 4)
        for (position, client) in after.participants.contributing.enumerated() {
            let before = try initial.evaluate(on: data.clients[client].validation).meanLoss
            XCTAssertGreaterThan(before, 0.1)
            XCTAssertEqual(change.validationLosses[position], after.validationLosses[position] - before,
                           accuracy: 1e-4 * before, "client \(client)")
        }
    }

    func testDivergedClientsAreLeftOutOfTheAverageAndPenalisedByFedEx() throws {
        // lr 2.5 multiplies the distance to the batch mean by -1.5 every step: after
        // hundreds of steps the client's values overflow.
        let data = try smallFederation()
        var settings = fedAvg(rounds: 4, perRound: 4, batch: 1, epochs: 30)
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.1, 2.5])]), settings: .init(schedule: .aggressive))
        let history = try run(ranks: 2, settings: settings, data: data)[0]
        XCTAssertTrue(history.globals.allSatisfy { $0.allSatisfy(\.isFinite) })
        let diverged = history.records.flatMap(\.diverged)
        XCTAssertFalse(diverged.isEmpty)
        for record in history.records {
            for (position, client) in record.participants.contributing.enumerated() where record.diverged.contains(client) {
                XCTAssertEqual(record.localSettings[position].learningRate, 2.5)
            }
        }
        XCTAssertGreaterThan(try XCTUnwrap(history.fedex).categoricals[0].probabilities[0], 0.9)
    }

    func testFedExWithoutValidationSamplesIsRefused() throws {
        let data = try smallFederation(validationFraction: 0)
        var settings = fedAvg()
        settings.fedex = FedExSetup(space: try FedExSpace.grid([("learning_rate", [0.1, 0.2])]), settings: .init())
        let fixed = settings
        assertFederatedError("fedex: scores local configurations on validation samples, but no client has any") {
            try LocalCommunicator.map(ranks: 1) { comm in
                _ = try FederatedRounds(settings: fixed, data: data, model: CentroidModel(width: 3, classCount: 3),
                                        communicator: comm)
            }
        }
    }
}

extension FedExSpace {
    /// A FedEx setup over learning rates only, aggressive schedule.
    static func gridSetup(lr: [Double]) -> FedExSetup {
        FedExSetup(space: try! FedExSpace.grid([("learning_rate", lr)]), settings: .init(schedule: .aggressive), validationLoss: .crossEntropy)
    }
}
