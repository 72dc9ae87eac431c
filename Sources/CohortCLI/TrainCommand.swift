import CohortFiles
import ArgumentParser
import CohortCluster
import CohortTensor
import CohortTrain
import Foundation

/// `cohort train`: one training run from a config file and/or flags. Under mpirun the
/// ranks train one model data-parallel (each a shard of every batch, gradients averaged
/// by one allreduce of the flat gradient buffer).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model (data-parallel under mpirun).",
        discussion: """
        Flags override the config file. Examples:
          cohort train --dataset digits --model mlp --hidden 128 --epochs 20
          cohort train --config examples/fashion-cnn.yaml --checkpoint-out runs/cnn.safetensors
          scripts/mpirun.sh -np 4 cohort train --config examples/fashion-mlp.yaml --verify-replicas
        """)

    @Option(help: "A training config (YAML or JSON).") var config: String?
    @Option(help: "digits, fashion-mnist, mnist, a directory of IDX files or a CSV file.") var dataset: String?
    @Option(name: .customLong("data-dir"), help: "Where the dataset's files are.") var dataDirectory: String?
    @Option(help: "mlp, cnn or resnet.") var model: String?
    @Option(help: "Hidden layer sizes of an MLP, comma-separated.") var hidden: String?
    @Option(help: "Convolution filters, comma-separated (cnn: two; resnet: one per block).") var filters: String?
    @Option(help: "Dropout probability.") var dropout: Float?
    @Option(help: "sgd, adam or adamw.") var optimizer: String?
    @Option(name: .customLong("learning-rate"), help: "Learning rate.") var learningRate: Float?
    @Option(help: "SGD momentum.") var momentum: Float?
    @Option(name: .customLong("weight-decay"), help: "Weight decay.") var weightDecay: Float?
    @Option(help: "Learning-rate schedule: constant, step or cosine.") var schedule: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Global batch size (split across ranks).") var batchSize: Int?
    @Option(help: "Experiment seed.") var seed: UInt64?
    @Option(help: "OpenBLAS threads per rank.") var threads: Int?
    @Option(name: .customLong("checkpoint-out"), help: "Write a safetensors checkpoint here after every epoch.") var checkpointOut: String?
    @Option(name: .customLong("resume-from"), help: "Continue from a checkpoint written by --checkpoint-out.") var resumeFrom: String?
    @Option(name: .customLong("stop-after"), help: "Stop after this many epochs of this run (resume later).") var stopAfter: Int?
    @Flag(name: .customLong("verify-replicas"), help: "Check after every step that all ranks hold bit-identical weights.") var verifyReplicas = false
    @Flag(help: "Print the outcome as JSON.") var json = false
    @Flag(help: "No per-epoch lines.") var quiet = false

    func run() throws {
        let settings = try resolvedConfig()
        let comm = try Cluster.world()
        var options = TrainingRun.Options(config: settings, checkpointOut: checkpointOut, resumeFrom: resumeFrom)
        options.verifyReplicas = verifyReplicas
        options.stopAfterEpochs = stopAfter
        let root = comm.rank == 0
        let outcome = try TrainingRun.run(options, communicator: comm, started: { parameters in
            guard root && !json && !quiet else { return }
            print("training \(settings.model.kind.rawValue) (\(parameters) parameters) on \(settings.dataset): \(settings.epochs) epochs, "
                  + "batch \(settings.batchSize), \(settings.optimizer.kind.rawValue) lr \(settings.optimizer.learningRate), seed \(settings.seed), "
                  + "\(comm.size) rank(s), BLAS \(BLASRuntime.coreName)")
        }) { r in
            guard !json && !quiet else { return }
            print(String(format: "epoch %d/%d  loss %.4f  train acc %.4f  test loss %.4f  test acc %.4f  %.0f samples/s  %.1f s  lr %.4g",
                         r.epoch, r.epochs, r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy, r.samplesPerSecond, r.seconds, Double(r.learningRate)))
            fflush(stdout)
        }
        guard root else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(outcome), as: UTF8.self))
            return
        }
        print(String(format: "final test accuracy %.4f (loss %.4f), %d parameters, %.2f s training", outcome.testAccuracy, outcome.testLoss,
                     outcome.parameters, outcome.trainSeconds))
        print("weights digest \(outcome.weightDigest)")
        if verifyReplicas { print("replicas identical after each of \(outcome.replicaChecks) steps on \(outcome.ranks) rank(s)") }
    }

    /// The config file (or defaults) with every given flag applied.
    private func resolvedConfig() throws -> TrainingConfig {
        var c = try config.map { try TrainingConfig.load(path: $0) } ?? TrainingConfig()
        if let dataset { c.dataset = dataset }
        if let dataDirectory { c.dataDirectory = dataDirectory }
        if let model {
            guard let kind = ModelSpec.Kind(rawValue: model) else { throw ConfigError(at: "--model", "must be mlp, cnn or resnet, got '\(model)'") }
            c.model.kind = kind
        }
        if let hidden { c.model.hidden = try Self.sizes(hidden, "--hidden") }
        if let filters { c.model.filters = try Self.sizes(filters, "--filters") }
        if let dropout { c.model.dropout = dropout }
        if let optimizer {
            guard let kind = OptimizerSpec.Kind(rawValue: optimizer) else { throw ConfigError(at: "--optimizer", "must be sgd, adam or adamw, got '\(optimizer)'") }
            c.optimizer.kind = kind
        }
        if let learningRate { c.optimizer.learningRate = learningRate }
        if let momentum { c.optimizer.momentum = momentum }
        if let weightDecay { c.optimizer.weightDecay = weightDecay }
        if let schedule {
            guard let s = OptimizerSpec.Schedule(rawValue: schedule) else { throw ConfigError(at: "--schedule", "must be constant, step or cosine, got '\(schedule)'") }
            c.optimizer.schedule = s
        }
        if let epochs { c.epochs = epochs }
        if let batchSize { c.batchSize = batchSize }
        if let seed { c.seed = seed }
        if let threads { c.threads = threads }
        if let stopAfter, stopAfter <= 0 { throw ConfigError(at: "--stop-after", "must be positive, got \(stopAfter)") }
        try c.validate()
        return c
    }

    private static func sizes(_ text: String, _ flag: String) throws -> [Int] {
        let v = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ConfigError(at: flag, "takes positive whole numbers separated by commas, got '\(text)'") }
        return v.map { $0! }
    }
}
