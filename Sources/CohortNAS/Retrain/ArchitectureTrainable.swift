import CohortCluster
import CohortTensor
import CohortTune
import Foundation

/// One architecture trained from scratch as a job-farm trial. The trial's
/// configuration names the cell (`architecture`: its NAS-Bench-201 string); the
/// resource is epochs; the metric is validation accuracy. The checkpoint's metadata
/// also carries the validation and test accuracy, so the coordinator reads the
/// outcome of every candidate without training anything itself.
final class ArchitectureTrainable: Trainable {
    let training: ArchitectureTraining
    private var validation: Double?

    init(_ training: ArchitectureTraining) { self.training = training }

    var trainedResource: Double { Double(training.epochsDone) }

    func train(to resource: Double) throws {
        while Double(training.epochsDone) < resource - 1e-9 { try training.trainEpoch() }
        validation = nil
    }

    func evaluate() throws -> Double {
        if let validation { return validation }
        let v = try training.validationAccuracy()
        validation = v
        return v
    }

    func testMetric() throws -> Double? { try training.testAccuracy() }

    func save(to url: URL) throws {
        let metadata = ["validation_accuracy": String(try evaluate()), "test_accuracy": String(try training.testAccuracy()),
                        "weights_digest": training.weightDigest]
        try training.checkpoint(metadata: metadata).write(to: url)
    }

    func restore(from url: URL, resource: Double) throws {
        try training.restore(try Checkpoint.read(from: url))
        validation = nil
    }
}

/// Builds each trial's trainable on a worker; the retraining data is loaded once per
/// worker process.
struct ArchitectureTrainableFactory: TrainableFactory {
    static let parameter = "architecture"
    let config: NASConfig
    let data: NASData

    func make(trial: Int, config trialConfig: TrialConfig) throws -> any Trainable {
        guard let text = trialConfig[Self.parameter]?.stringValue else {
            throw NASInputError("retraining trial \(trial) names no architecture")
        }
        let cell = try CellArchitecture(parsing: text)
        return ArchitectureTrainable(try ArchitectureTraining(cell, config: config, data: data, communicator: LocalCommunicator.single()))
    }
}
