import CohortCluster
import CohortTensor
import Foundation

/// `cohort nas retrain` as a library call: trains one architecture from scratch with
/// the config's `retrain` settings (data-parallel over the communicator's ranks) and
/// reports validation and test accuracy. A search's retraining stage runs exactly
/// this training, so the numbers compare.
public enum NASRetrainRun {
    public struct Epoch: Sendable {
        public var epoch: Int
        public var epochs: Int
        public var loss: Double
        public var accuracy: Double
        public var seconds: Double
    }

    public struct Outcome: Sendable {
        public var architecture: CellArchitecture
        public var parameters: Int
        public var epochs: [Epoch]
        public var validationAccuracy: Double
        public var testAccuracy: Double
        public var trainSeconds: Double
        public var weightsDigest: String
        public var ranks: Int
    }

    /// - Parameter checkpointOut: rank 0 writes the trained model here (safetensors).
    public static func run(_ architecture: CellArchitecture, config: NASConfig, communicator: Communicator, checkpointOut: String? = nil,
                           started: (Int) -> Void = { _ in }, progress: (Epoch) -> Void = { _ in }) throws -> Outcome {
        let data = try NASData.retrain(config)
        let training = try ArchitectureTraining(architecture, config: config, data: data, communicator: communicator)
        started(training.model.parameterCount)
        var epochs: [Epoch] = []
        for e in 0..<config.retrain.epochs {
            let before = training.trainSeconds
            let stats = try training.trainEpoch()
            let epoch = Epoch(epoch: e + 1, epochs: config.retrain.epochs, loss: stats.loss, accuracy: stats.accuracy,
                              seconds: training.trainSeconds - before)
            epochs.append(epoch)
            if communicator.rank == 0 { progress(epoch) }
        }
        let validation = try training.validationAccuracy(), test = try training.testAccuracy()
        if communicator.rank == 0, let checkpointOut {
            try training.checkpoint(metadata: ["validation_accuracy": String(validation), "test_accuracy": String(test),
                                               "seed": String(config.seed), "config": config.sourceText])
                .write(to: URL(fileURLWithPath: checkpointOut))
        }
        return Outcome(architecture: architecture, parameters: training.model.parameterCount, epochs: epochs,
                       validationAccuracy: validation, testAccuracy: test, trainSeconds: training.trainSeconds,
                       weightsDigest: training.weightDigest, ranks: communicator.size)
    }
}
