import CohortFiles
import CohortCluster
import CohortData
import CohortTensor
import Foundation

/// `cohort train` as a library call: load data, build the model, train for the
/// configured epochs (resuming from a checkpoint if asked), report each epoch, write
/// checkpoints, and return the outcome. Every rank calls it; rank 0 reports and writes.
public enum TrainingRun {
    public struct Options: Sendable {
        public var config: TrainingConfig
        /// Written (atomically, by rank 0) after every epoch.
        public var checkpointOut: String?
        /// A checkpoint of the same config to continue from.
        public var resumeFrom: String?
        /// Compare every replica's weights after every step.
        public var verifyReplicas = false
        /// Stop after this many epochs of this invocation (to test resuming).
        public var stopAfterEpochs: Int?

        public init(config: TrainingConfig, checkpointOut: String? = nil, resumeFrom: String? = nil) {
            self.config = config
            self.checkpointOut = checkpointOut
            self.resumeFrom = resumeFrom
        }
    }

    /// One epoch's figures, reported by rank 0.
    public struct EpochReport: Codable, Sendable {
        public var epoch: Int
        public var epochs: Int
        public var trainLoss: Double
        public var trainAccuracy: Double
        public var testLoss: Double
        public var testAccuracy: Double
        public var samplesPerSecond: Double
        public var seconds: Double
        public var learningRate: Float
    }

    public struct Outcome: Codable, Sendable {
        public var dataset: String
        public var model: String
        public var parameters: Int
        public var ranks: Int
        public var epochs: [EpochReport]
        public var testAccuracy: Double
        public var testLoss: Double
        public var trainSeconds: Double
        /// FNV-1a of the final weights' bits: equal digests mean bit-identical weights.
        public var weightDigest: String
        public var replicaChecks: Int
    }

    /// - Parameters:
    ///   - started: called on every rank once the data, model and checkpoint are loaded
    ///     and training is about to begin (with the parameter count).
    ///   - progress: called on rank 0 after every epoch.
    public static func run(_ options: Options, communicator: Communicator,
                           started: (Int) -> Void = { _ in },
                           progress: (EpochReport) -> Void = { _ in }) throws -> Outcome {
        let config = options.config
        BLASRuntime.setThreads(config.threads)
        let setup = try prepare(options, communicator: communicator)
        let (train, test, model, optimizer, trainer) = (setup.train, setup.test, setup.model, setup.optimizer, setup.trainer)
        var sampler = setup.sampler
        let firstEpoch = setup.firstEpoch
        started(model.parameterCount)

        var reports: [EpochReport] = []
        var trainSeconds = 0.0
        let lastEpoch = min(config.epochs, firstEpoch + (options.stopAfterEpochs ?? config.epochs))
        for epoch in firstEpoch..<lastEpoch {
            let rate = optimizer.currentLearningRate
            let start = DispatchTime.now().uptimeNanoseconds
            let stats = try trainer.trainEpoch(train, sampler: &sampler, epoch: epoch)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            trainSeconds += seconds
            let (testLoss, testAccuracy) = try trainer.evaluate(test)
            let report = EpochReport(epoch: epoch + 1, epochs: config.epochs, trainLoss: stats.loss, trainAccuracy: stats.accuracy,
                                     testLoss: testLoss, testAccuracy: testAccuracy,
                                     samplesPerSecond: Double(stats.samples) / max(seconds, 1e-9), seconds: seconds, learningRate: rate)
            reports.append(report)
            if communicator.rank == 0 {
                progress(report)
                if let out = options.checkpointOut {
                    let cp = Checkpoint(model: model, optimizer: optimizer, step: optimizer.stepCount,
                                        metadata: ["epoch": String(epoch + 1), "dataset": config.dataset, "seed": String(config.seed),
                                                   "config": config.document.description])
                    try cp.write(to: URL(fileURLWithPath: out))
                }
            }
        }
        let final: (Double, Double)
        if let last = reports.last { final = (last.testLoss, last.testAccuracy) } else { final = try trainer.evaluate(test) }
        return Outcome(dataset: config.dataset, model: config.model.kind.rawValue, parameters: model.parameterCount,
                       ranks: communicator.size, epochs: reports, testAccuracy: final.1, testLoss: final.0,
                       trainSeconds: trainSeconds, weightDigest: String(trainer.weightDigest, radix: 16),
                       replicaChecks: trainer.replicaChecks)
    }

    // MARK: Setup

    private struct Setup {
        var train: Dataset, test: Dataset
        var model: Model
        var optimizer: Optimizer
        var trainer: Trainer
        var sampler: MinibatchSampler
        var firstEpoch: Int
    }

    /// Everything that can fail because of the input (config, data files, checkpoint)
    /// happens here, identically on every rank, before any rank starts training; such
    /// failures come out as `TrainingInputError` so they are reported once.
    private static func prepare(_ options: Options, communicator: Communicator) throws -> Setup {
        let config = options.config
        do {
            try config.validate()
            let (train, test) = try DatasetCatalog.load(name: config.dataset, dataDirectory: config.dataDirectory)
            let (module, inputShape) = try config.model.build(sampleShape: train.sampleShape, classes: train.classCount)
            let model = Model(module, seed: config.seed)
            let sampler = try MinibatchSampler(sampleCount: train.count, batchSize: config.batchSize, seed: config.seed,
                                               dropLast: train.count >= config.batchSize)
            let optimizer = try config.optimizer.make(parameterCount: model.parameterCount, stepsPerEpoch: sampler.batchCount,
                                                      epochs: config.epochs)
            let trainer = Trainer(model: model, optimizer: optimizer, inputShape: inputShape, batchSize: config.batchSize,
                                  communicator: communicator)
            trainer.setDropoutSeed(config.seed)
            trainer.verifiesReplicas = options.verifyReplicas
            var firstEpoch = 0
            if let resume = options.resumeFrom {
                let checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: resume))
                guard checkpoint.metadata["dataset"] == config.dataset else {
                    throw ConfigError(at: resume, "this checkpoint was trained on '\(checkpoint.metadata["dataset"] ?? "?")', not '\(config.dataset)'")
                }
                try checkpoint.restore(into: model, optimizer: optimizer)
                firstEpoch = Int(checkpoint.metadata["epoch"] ?? "") ?? 0
                guard firstEpoch <= config.epochs else {
                    throw ConfigError(at: resume, "this checkpoint already trained \(firstEpoch) epochs, more than the \(config.epochs) configured")
                }
            }
            return Setup(train: train, test: test, model: model, optimizer: optimizer, trainer: trainer,
                         sampler: sampler, firstEpoch: firstEpoch)
        } catch let e as ConfigError {
            throw e
        } catch {
            throw TrainingInputError("\(error)")
        }
    }
}
