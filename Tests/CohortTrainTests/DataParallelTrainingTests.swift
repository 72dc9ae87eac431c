import CohortFiles
import CohortCluster
import CohortData
import CohortTensor
import XCTest
@testable import CohortTrain

/// Training runs on the embedded digits, alone and data-parallel over in-process ranks.
final class DataParallelTrainingTests: XCTestCase {
    private func config(_ kind: ModelSpec.Kind = .mlp, epochs: Int = 2, dropout: Float = 0) -> TrainingConfig {
        var c = TrainingConfig()
        c.dataset = "digits"
        c.model.kind = kind
        c.model.hidden = [16]
        c.model.filters = [4, 8]
        c.model.dense = 16
        c.model.dropout = dropout
        c.epochs = epochs
        c.batchSize = 64
        c.seed = 5
        return c
    }

    func testSingleRankLearnsDigits() throws {
        var c = config(epochs: 3)
        c.model.hidden = [32]
        let outcome = try TrainingRun.run(.init(config: c), communicator: LocalCommunicator.single())
        XCTAssertEqual(outcome.epochs.count, 3)
        XCTAssertGreaterThan(outcome.testAccuracy, 0.85)
        XCTAssertLessThan(outcome.epochs[2].trainLoss, outcome.epochs[0].trainLoss)
    }

    func testSameSeedGivesBitIdenticalWeights() throws {
        let c = config(dropout: 0.2)
        let a = try TrainingRun.run(.init(config: c), communicator: LocalCommunicator.single())
        let b = try TrainingRun.run(.init(config: c), communicator: LocalCommunicator.single())
        XCTAssertEqual(a.weightDigest, b.weightDigest)
        var other = c
        other.seed = 6
        XCTAssertNotEqual(try TrainingRun.run(.init(config: other), communicator: LocalCommunicator.single()).weightDigest, a.weightDigest)
    }

    func testRanksKeepIdenticalWeightsEveryStep() throws {
        for (kind, ranks) in [(ModelSpec.Kind.mlp, 2), (.cnn, 3)] {
            let c = config(kind, epochs: 1, dropout: 0.1)
            let outcomes = try LocalCommunicator.map(ranks: ranks) { comm -> TrainingRun.Outcome in
                var options = TrainingRun.Options(config: c)
                options.verifyReplicas = true
                return try TrainingRun.run(options, communicator: comm)
            }
            XCTAssertEqual(Set(outcomes.map(\.weightDigest)).count, 1, "\(kind) on \(ranks) ranks")
            XCTAssertEqual(outcomes[0].replicaChecks, 21, "one check per step (1348 samples / 64, last partial batch dropped)")
        }
    }

    func testDataParallelMatchesOneRankUpToRounding() throws {
        // No batch norm, no dropout: the averaged gradient equals the full-batch gradient,
        // so two ranks follow one rank's trajectory up to float summation order.
        var c = config(epochs: 1)
        c.optimizer.kind = .sgd
        let single = try trainedWeights(c, ranks: 1)
        let double = try trainedWeights(c, ranks: 2)
        XCTAssertEqual(single.count, double.count)
        let worst = zip(single, double).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-4)
    }

    private func trainedWeights(_ c: TrainingConfig, ranks: Int) throws -> [Float] {
        let (train, _) = try DatasetCatalog.digits()
        let results = try LocalCommunicator.map(ranks: ranks) { comm -> [Float] in
            let (module, shape) = try c.model.build(sampleShape: train.sampleShape, classes: train.classCount)
            let model = Model(module, seed: c.seed)
            var sampler = try MinibatchSampler(sampleCount: train.count, batchSize: c.batchSize, seed: c.seed, dropLast: true)
            let opt = try c.optimizer.make(parameterCount: model.parameterCount, stepsPerEpoch: sampler.batchCount, epochs: 1)
            let trainer = Trainer(model: model, optimizer: opt, inputShape: shape, batchSize: c.batchSize, communicator: comm)
            _ = try trainer.trainEpoch(train, sampler: &sampler, epoch: 0)
            return model.parameters.toArray()
        }
        return results[0]
    }

    func testResumingGivesTheSameWeightsAsAnUninterruptedRun() throws {
        let c = config(epochs: 3, dropout: 0.2)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-resume-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = try TrainingRun.run(.init(config: c), communicator: LocalCommunicator.single())
        var first = TrainingRun.Options(config: c, checkpointOut: path)
        first.stopAfterEpochs = 1
        let part = try TrainingRun.run(first, communicator: LocalCommunicator.single())
        XCTAssertEqual(part.epochs.count, 1)
        let rest = try TrainingRun.run(.init(config: c, resumeFrom: path), communicator: LocalCommunicator.single())
        XCTAssertEqual(rest.epochs.map(\.epoch), [2, 3])
        XCTAssertEqual(rest.weightDigest, whole.weightDigest)
    }

    func testBadInputIsOneReadableError() throws {
        var c = config()
        c.dataset = "no-such-data"
        XCTAssertThrowsError(try TrainingRun.run(.init(config: c), communicator: LocalCommunicator.single())) {
            XCTAssertTrue($0 is TrainingInputError, "\(type(of: $0))")
            XCTAssertTrue("\($0)".contains("unknown dataset 'no-such-data'"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingRun.run(.init(config: config(), resumeFrom: "/no/such.safetensors"), communicator: LocalCommunicator.single())) {
            XCTAssertTrue("\($0)".contains("/no/such.safetensors: no such file"), "\($0)")
        }
    }

    func testTrainerAllocatesNoStorageAfterTheFirstStep() throws {
        let (train, test) = try DatasetCatalog.digits()
        for kind in [ModelSpec.Kind.mlp, .cnn] {
            let c = config(kind, dropout: 0.1)
            let (module, shape) = try c.model.build(sampleShape: train.sampleShape, classes: train.classCount)
            let model = Model(module, seed: 1)
            var sampler = try MinibatchSampler(sampleCount: 200, batchSize: 64, seed: 1, dropLast: false)
            let opt = try c.optimizer.make(parameterCount: model.parameterCount, stepsPerEpoch: sampler.batchCount, epochs: 3)
            let trainer = Trainer(model: model, optimizer: opt, inputShape: shape, batchSize: 64, communicator: LocalCommunicator.single())
            let subset = try train.subset(0..<200)
            _ = try trainer.trainEpoch(subset, sampler: &sampler, epoch: 0)   // includes the short last batch
            _ = try trainer.evaluate(test)
            let before = TensorStorage.allocationCount
            _ = try trainer.trainEpoch(subset, sampler: &sampler, epoch: 1)
            _ = try trainer.evaluate(test)
            XCTAssertEqual(TensorStorage.allocationCount, before, "\(kind): a second epoch allocated tensor storage")
        }
    }
}
