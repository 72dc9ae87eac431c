import CohortTune
import XCTest
@testable import CohortFederated

final class FedConfigTests: XCTestCase {
    let fedAvgSynthetic = """
    name: fedavg-synthetic
    seed: 3
    rounds: 200
    data: {source: synthetic, alpha: 1, beta: 1}
    model: {type: logistic}
    sampling: {clients_per_round: 10}
    local: {learning_rate: 0.01, epochs: 20, batch_size: 10}
    evaluation: {every: 10}
    """

    func testReadsAFedAvgConfig() throws {
        let config = try FedConfig.parse(fedAvgSynthetic)
        XCTAssertEqual(config.name, "fedavg-synthetic")
        XCTAssertEqual(config.seed, 3)
        XCTAssertEqual(config.data.source, .synthetic(SyntheticFedProx(alpha: 1, beta: 1)))
        XCTAssertEqual(config.data.seed, 3, "the data seed defaults to the experiment seed")
        XCTAssertEqual(config.model.type, "logistic")
        XCTAssertEqual(config.base.rounds, 200)
        XCTAssertEqual(config.base.sampling, ClientSampling(clientsPerRound: 10))
        XCTAssertEqual(config.base.local, LocalHyperparameters(learningRate: 0.01, epochs: 20, batchSize: 10))
        XCTAssertEqual(config.base.server, .fedAvg)
        XCTAssertEqual(config.base.evaluateEvery, 10)
        XCTAssertNil(config.fedex)
        XCTAssertNil(config.search)
    }

    func testReadsAFedExSearchOverAPartitionedDataSet() throws {
        let config = try FedConfig.parse("""
        rounds: 60
        data:
          source: fashion-mnist
          clients: 100
          partition: dirichlet
          alpha: 0.5
          validation_fraction: 0.1
          test_fraction: 0.1
          held_out_clients: 10
        model: {type: mlp, hidden: [200]}
        sampling: {fraction: 0.1, drop_rate: 0.2, stragglers: partial_work}
        server: {type: adam, learning_rate: 0.01}
        fedex:
          sample:
            configurations: 8
            space:
              learning_rate: {type: loguniform, low: 1.0e-3, high: 1.0}
              epochs: {type: int, low: 1, high: 3}
          schedule: inverse_sqrt
          baseline_discount: 0.5
        search:
          type: sha
          arms: 9
          eta: 3
          min_rounds: 20
          space:
            server.learning_rate: {type: loguniform, low: 1.0e-3, high: 0.1}
            server.momentum: {type: choice, values: [0.0, 0.9]}
        """, defaultName: "fx")
        XCTAssertEqual(config.name, "fx")
        XCTAssertEqual(config.data.source, .centralized(name: "fashion-mnist", dataDirectory: nil, pooled: false, clients: 100,
                                                        scheme: .dirichlet(alpha: 0.5, minimumSamples: 10), testFraction: 0.1))
        XCTAssertEqual(config.data.heldOutClients, 10)
        XCTAssertEqual(config.base.sampling, ClientSampling(fraction: 0.1, dropRate: 0.2, stragglers: .partialWork))
        XCTAssertEqual(config.base.server.kind, .adam)
        XCTAssertEqual(config.fedex?.settings, FedExDistribution.Settings(schedule: .inverseSqrt, baselineDiscount: 0.5))
        XCTAssertEqual(config.search?.kind, .sha)
        XCTAssertEqual(config.search?.minRounds, 20)

        // Each arm draws its own 8 configurations; the same arm always the same ones.
        let arm0 = try config.settings(arm: 0, searchConfig: nil)
        let arm1 = try config.settings(arm: 1, searchConfig: nil)
        XCTAssertEqual(arm0.fedex?.space.sizes, [8])
        XCTAssertNotEqual(arm0.fedex?.space, arm1.fedex?.space)
        XCTAssertEqual(try config.settings(arm: 1, searchConfig: nil).fedex?.space, arm1.fedex?.space)
        for choice in arm0.fedex!.space.categoricals[0].choices {
            XCTAssertTrue((1e-3 ... 1).contains(choice["learning_rate"]!))
            XCTAssertTrue([1, 2, 3].contains(choice["epochs"]!))
        }
        // A search arm's values land in the server settings.
        let applied = try config.settings(arm: 2, searchConfig: TrialConfig(["server.learning_rate": .double(0.05), "server.momentum": .double(0.9)]))
        XCTAssertEqual(applied.server.learningRate, 0.05)
        XCTAssertEqual(applied.server.momentum, 0.9)
        XCTAssertEqual(applied.arm, 2)
    }

    func testFedExGridAndConfigurations() throws {
        let grid = try FedConfig.parse(fedAvgSynthetic + "\nfedex: {grid: {learning_rate: [0.1, 0.01], batch_size: [10, 32]}, eta0: 0.5}")
        XCTAssertEqual(try grid.settings(arm: 0, searchConfig: nil).fedex?.space.sizes, [2, 2])
        XCTAssertEqual(grid.fedex?.settings.eta0, 0.5)
        XCTAssertEqual(try grid.settings(arm: 0, searchConfig: nil).fedex?.validationLoss, .error)
        let whole = try FedConfig.parse(fedAvgSynthetic + "\nfedex: {configurations: [{learning_rate: 0.1}, {learning_rate: 0.2, mu: 0.01}], validation_loss: cross_entropy}")
        XCTAssertEqual(try whole.settings(arm: 0, searchConfig: nil).fedex?.space.sizes, [2])
        XCTAssertEqual(try whole.settings(arm: 0, searchConfig: nil).fedex?.validationLoss, .crossEntropy)
        XCTAssertEqual(try whole.settings(arm: 0, searchConfig: nil).fedex?.reportsDifference, false)
        let difference = try FedConfig.parse(fedAvgSynthetic + "\nfedex: {configurations: [{learning_rate: 0.1}, {learning_rate: 0.2}], difference: true}")
        XCTAssertEqual(try difference.settings(arm: 0, searchConfig: nil).fedex?.reportsDifference, true)
    }

    // MARK: Bad configs: every problem, one line

    private func message(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        federatedErrorMessage({ try FedConfig.parse(text) }, file: file, line: line)
    }

    private func replacing(_ old: String, _ new: String) -> String {
        fedAvgSynthetic.replacingOccurrences(of: old, with: new)
    }

    func testReportsEveryProblemOnALineOfItsOwn() {
        let text = message(replacing("rounds: 200", "rounds: 0\nbogus: 1\nrouns: 2")
            .replacingOccurrences(of: "learning_rate: 0.01", with: "learning_rate: -1"))
        XCTAssertEqual(Set(text.split(separator: "\n")), [
            "rounds: must be at least 1, got 0",
            "bogus: unknown key (keys here: data, evaluation, fedex, local, model, name, rounds, sampling, search, seed, server)",
            "rouns: unknown key; did you mean rounds?",
            "local.learning_rate: must be a positive number, got -1.0",
        ], text)
    }

    func testFormerKeyNamesNameTheirReplacement() {
        XCTAssertEqual(message(replacing("learning_rate: 0.01", "lr: 0.01")), "local.lr: unknown key; did you mean learning_rate?")
        XCTAssertEqual(message(fedAvgSynthetic + "\nserver: {optimizer: adam}"), "server.optimizer: unknown key; did you mean type?")
        XCTAssertTrue(message(replacing("clients_per_round", "clientsPerRound"))
            .hasPrefix("sampling.clientsPerRound: unknown key; did you mean clients_per_round?"))
    }

    func testBadDataSections() {
        XCTAssertTrue(message(replacing("alpha: 1, beta: 1", "alpha: -1, beta: 1")).contains("data.alpha: must be zero or positive, got -1.0"))
        XCTAssertTrue(message(replacing("alpha: 1, beta: 1", "beta: 1")).contains("data.alpha: is missing"))
        let dirichlet = replacing("{source: synthetic, alpha: 1, beta: 1}", "{source: digits, clients: 10, partition: dirichlet, alpha: 0}")
        XCTAssertTrue(message(dirichlet).contains("data.alpha: must be a positive number, got 0.0"))
        let negative = replacing("{source: synthetic, alpha: 1, beta: 1}", "{source: digits, clients: 10, partition: dirichlet, alpha: -0.5}")
        XCTAssertTrue(message(negative).contains("data.alpha: must be a positive number, got -0.5"))
        let unknown = replacing("{source: synthetic, alpha: 1, beta: 1}", "{source: digits, clients: 10, partition: pathological}")
        XCTAssertTrue(message(unknown).contains("data.partition: unknown partition 'pathological'"))
        let fractions = replacing("{source: synthetic, alpha: 1, beta: 1}", "{source: digits, clients: 10, validation_fraction: 0.5, test_fraction: 0.5}")
        XCTAssertTrue(message(fractions).contains("leaves nothing to train on"))
        XCTAssertTrue(message(replacing("data: {source: synthetic, alpha: 1, beta: 1}\n", "")).contains("data: is missing"))
    }

    func testBadSamplingServerAndFedEx() {
        XCTAssertTrue(message(replacing("{clients_per_round: 10}", "{drop_rate: 0.1}")).contains("sampling: give clients_per_round, fraction, or both"))
        XCTAssertTrue(message(replacing("{clients_per_round: 10}", "{clients_per_round: 10, drop_rate: 1}")).contains("sampling.drop_rate: must be in [0, 1)"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nserver: {type: lamb}").contains("server.type: unknown value 'lamb' (expected one of sgd, adagrad, adam, yogi)"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nserver: {momentum: 1.5}").contains("server.momentum: must be in [0, 1)"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nfedex: {schedule: constant}").contains("fedex: needs the configurations to choose among"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nfedex: {grid: {dropout: [0.1]}}").contains("unknown local hyperparameter 'dropout'"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nfedex: {grid: {learning_rate: [0.1]}, baseline_discount: 2}").contains("fedex.baseline_discount: must be in [0, 1], got 2.0"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nsearch: {arms: 3, space: {server.gamma: 0.5}}").contains("unknown server setting"))
        XCTAssertTrue(message(fedAvgSynthetic + "\nsearch: {type: sha, arms: 9, min_rounds: 100, space: {server.learning_rate: 1}}")
            .contains("search.min_rounds: times eta (100 x 3) exceeds rounds (200)"))
        XCTAssertTrue(message("rounds: [1, 2").contains("is not valid YAML or JSON"))
    }
}
