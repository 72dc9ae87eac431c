import CohortCluster
import CohortData
import CohortTensor
import CohortTrain
import Foundation

/// Trains one architecture from scratch with the `retrain` settings: the retraining
/// stage of a search, baselines of random architectures, and `cohort nas retrain`.
/// The same config and seed give the same network, batches and numbers wherever it
/// runs; under several ranks it trains data-parallel (CohortTrain's `Trainer`: one
/// allreduce of the flat gradient buffer per step, batch-norm statistics averaged).
public final class ArchitectureTraining {
    public let architecture: CellArchitecture
    public let network: CellNetwork
    public let model: Model
    public let optimizer: Optimizer
    public let data: NASData
    public let epochs: Int
    let trainer: Trainer
    private var sampler: MinibatchSampler
    public private(set) var epochsDone = 0
    /// Seconds spent in training epochs (not evaluation).
    public private(set) var trainSeconds = 0.0

    public init(_ architecture: CellArchitecture, config: NASConfig, data: NASData, communicator: Communicator) throws {
        let settings = config.retrain
        if settings.batchSize < communicator.size {
            throw NASInputError("retrain.batchSize (\(settings.batchSize)) is smaller than the number of ranks (\(communicator.size)): every rank needs at least one sample of each batch")
        }
        self.architecture = architecture
        self.data = data
        epochs = settings.epochs
        network = try CellNetwork(.architecture(architecture), spec: config.network, inputShape: data.imageShape, classes: data.classes)
        model = Model(network, seed: config.seed)
        sampler = try MinibatchSampler(sampleCount: data.train.count, batchSize: settings.batchSize, seed: config.seed,
                                       stream: [StreamPurpose.retrainBatches], dropLast: data.train.count >= settings.batchSize)
        do {
            optimizer = try settings.optimizer.make(parameterCount: model.parameterCount, stepsPerEpoch: sampler.batchCount, epochs: settings.epochs)
        } catch {
            throw NASInputError("retrain.\(error)")
        }
        trainer = Trainer(model: model, optimizer: optimizer, inputShape: data.imageShape, batchSize: settings.batchSize,
                          communicator: communicator)
        trainer.setDropoutSeed(config.seed)
    }

    /// One epoch over the training part; loss and accuracy over all ranks.
    @discardableResult
    public func trainEpoch() throws -> Trainer.EpochStats {
        let started = DispatchTime.now().uptimeNanoseconds
        let stats = try trainer.trainEpoch(data.train, sampler: &sampler, epoch: epochsDone)
        trainSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        epochsDone += 1
        return stats
    }

    /// Accuracy on the held-out validation part (what candidates are ranked by).
    public func validationAccuracy() throws -> Double { try trainer.evaluate(data.validation).accuracy }

    /// Accuracy on the test split (reported, never used to choose).
    public func testAccuracy() throws -> Double { try trainer.evaluate(data.test).accuracy }

    /// FNV-1a of the weights' bits.
    public var weightDigest: String { String(trainer.weightDigest, radix: 16) }

    // MARK: Checkpoints

    public func checkpoint(metadata: [String: String] = [:]) -> Checkpoint {
        var m = metadata
        m["architecture"] = architecture.nasBench201String
        m["epoch"] = String(epochsDone)
        m["train_seconds"] = String(trainSeconds)
        return Checkpoint(model: model, optimizer: optimizer, step: optimizer.stepCount, metadata: m)
    }

    /// Continues from a checkpoint of the same architecture and settings.
    public func restore(_ checkpoint: Checkpoint) throws {
        guard checkpoint.metadata["architecture"] == architecture.nasBench201String else {
            throw NASInputError("checkpoint \(checkpoint.path) holds \(checkpoint.metadata["architecture"] ?? "no architecture"), not \(architecture)")
        }
        try checkpoint.restore(into: model, optimizer: optimizer)
        epochsDone = Int(checkpoint.metadata["epoch"] ?? "") ?? 0
        trainSeconds = Double(checkpoint.metadata["train_seconds"] ?? "") ?? 0
    }
}
