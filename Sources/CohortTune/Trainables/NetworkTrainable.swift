import CohortFiles
import CohortCluster
import CohortData
import CohortTensor
import CohortTrain
import Foundation

/// One trial of a real network search: CohortTrain's `Trainer` on a single rank,
/// stopped and continued at rung boundaries.
///
/// Pause and resume are exact. The whole training state is the model's parameters and
/// buffers, the optimizer's buffers and step, and the layers' random streams (dropout),
/// all of which the checkpoint holds; the data order is a pure function of (seed,
/// trial, epoch), so the step count alone says where in which epoch to continue.
/// Training to 3 and resuming to 9 therefore gives bit for bit the weights of training
/// to 9 in one go, whichever worker runs the second job.
///
/// Random streams are named by the experiment seed and the trial id: a trial's
/// initial weights, data order and dropout masks do not depend on the worker.
public final class NetworkTrainable: Trainable {
    public let trial: Int
    public let config: TrialConfig
    public let hyperparameters: NetworkHyperparameters
    let factory: NetworkTrainableFactory
    public let trainer: Trainer
    var sampler: MinibatchSampler
    public let batchesPerEpoch: Int
    public private(set) var trainedResource: Double = 0

    /// Tags the trial's streams apart from other streams of the seed.
    static let modelStream: UInt64 = 0x5472_6961_6C4D_6F64 // "TrialMod"
    static let dropoutStream: UInt64 = 0x5472_6961_6C44_726F // "TrialDro"

    /// `communicator`: the ranks that train this trial together, data-parallel
    /// (CohortTrain's ``Trainer``); a single-rank one for a trial trained alone.
    init(trial: Int, config: TrialConfig, factory: NetworkTrainableFactory, communicator: Communicator) throws {
        self.trial = trial
        self.config = config
        self.factory = factory
        let h = NetworkHyperparameters(config)
        hyperparameters = h
        let train = factory.data.train
        let (module, inputShape) = try h.modelSpec(kind: factory.kind).build(sampleShape: train.sampleShape, classes: train.classCount)
        var seeds = RandomStream(seed: factory.context.seed, stream: [Self.modelStream, UInt64(trial)])
        let model = Model(module, seed: seeds.next())
        batchesPerEpoch = factory.batchesPerEpoch(batchSize: h.batchSize)
        sampler = try MinibatchSampler(sampleCount: train.count, batchSize: h.batchSize, seed: factory.context.seed,
                                       stream: [UInt64(trial)], dropLast: train.count >= h.batchSize)
        // A cosine schedule spans the steps of max_resource, whatever rung a job stops
        // at, so that the rate at a given step never depends on how the trial was split.
        let totalSteps = max(1, factory.steps(for: factory.context.maxResource, batchSize: h.batchSize))
        let spec = h.optimizerSpec(schedule: factory.schedule)
        try spec.validate()
        let optimizer = try spec.make(parameterCount: model.parameterCount, stepsPerEpoch: 1, epochs: totalSteps)
        trainer = Trainer(model: model, optimizer: optimizer, inputShape: inputShape, batchSize: h.batchSize,
                          communicator: communicator)
        var dropoutSeeds = RandomStream(seed: factory.context.seed, stream: [Self.dropoutStream, UInt64(trial)])
        trainer.setDropoutSeed(dropoutSeeds.next())
    }

    /// Optimizer steps taken so far.
    public var step: Int { trainer.optimizer.stepCount }

    // MARK: Training

    /// Longest stretch trained before the loss is checked for divergence.
    static let checkEvery = 200

    public func train(to resource: Double) throws {
        let target = factory.steps(for: resource, batchSize: hyperparameters.batchSize)
        while step < target {
            let epoch = step / batchesPerEpoch, batch = step % batchesPerEpoch
            if sampler.epoch != epoch { sampler.startEpoch(epoch) }
            let end = min(batchesPerEpoch, batch + min(target - step, Self.checkEvery))
            let stats = try trainer.trainBatches(factory.data.train, sampler: sampler, batches: batch..<end)
            guard stats.loss.isFinite else {
                throw TrainingDiverged(trial: trial, step: step, what: "training loss is \(stats.loss)")
            }
        }
        trainedResource = max(trainedResource, resource)
    }

    // MARK: Metrics

    public func evaluate() throws -> Double { try metric(on: factory.data.validation) }

    /// The same metric on the dataset's test split.
    public func testMetric() throws -> Double? { try metric(on: factory.data.test) }

    /// Loss and accuracy on `data`.
    public func scores(on data: Dataset) throws -> (loss: Double, accuracy: Double) { try trainer.evaluate(data) }

    private func metric(on data: Dataset) throws -> Double {
        let (loss, accuracy) = try trainer.evaluate(data)
        // A diverged network still "classifies" (argmax of NaN picks some class), so
        // the loss decides.
        guard loss.isFinite else { throw TrainingDiverged(trial: trial, step: step, what: "\(data.name) loss is \(loss)") }
        return factory.objective == .accuracy ? accuracy : loss
    }

    // MARK: Checkpoints

    public func save(to url: URL) throws {
        let checkpoint = Checkpoint(model: trainer.model, optimizer: trainer.optimizer, step: step, metadata: [
            "trial": String(trial), "config": config.description, "resource": JSONValue.number(trainedResource).description,
            "dataset": factory.dataset, "network": factory.kind.rawValue,
        ])
        try checkpoint.write(to: url)
    }

    public func restore(from url: URL, resource: Double) throws {
        let checkpoint = try Checkpoint.read(from: url)
        guard checkpoint.metadata["trial"] == String(trial), checkpoint.metadata["config"] == config.description else {
            throw TrainableError.badCheckpoint(url.path, "it belongs to trial \(checkpoint.metadata["trial"] ?? "?") (\(checkpoint.metadata["config"] ?? "?")), not trial \(trial) (\(config))")
        }
        try checkpoint.restore(into: trainer.model, optimizer: trainer.optimizer)
        let expected = factory.steps(for: resource, batchSize: hyperparameters.batchSize)
        guard step == expected else {
            throw TrainableError.badCheckpoint(url.path, "it holds \(step) optimizer steps, but resource \(JSONValue.number(resource)) is \(expected) steps")
        }
        trainedResource = resource
    }
}

/// A trial whose training blew up: recorded as failed, and the search goes on.
public struct TrainingDiverged: Error, CustomStringConvertible {
    public var trial: Int
    public var step: Int
    public var what: String
    public var description: String { "trial \(trial) diverged: \(what) after \(step) optimizer steps" }
}
