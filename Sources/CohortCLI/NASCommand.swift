import CohortFiles
import ArgumentParser
import CohortCluster
import CohortNAS
import CohortTensor
import CohortTune
import Foundation

/// `cohort nas ...`: weight-sharing architecture search over a NAS-Bench-201 cell space.
struct NASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nas",
        abstract: "Weight-sharing architecture search: RSWS, GAEA and DARTS on a NAS-Bench-201 cell space.",
        discussion: """
        Under mpirun the ranks train one supernet data-parallel, then retrain the best
        candidates as job-farm jobs (rank 0 coordinates):
          scripts/mpirun.sh -np 2 cohort nas search --config examples/nas-rsws-fashion.yaml
          cohort nas retrain --config examples/nas-rsws-fashion.yaml --arch runs/nas-rsws-fashion/chosen.json
          cohort nas show --arch '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'
        """,
        subcommands: [NASSearchCommand.self, NASRetrainCommand.self, NASBenchCommand.self, NASShowCommand.self, NASSampleCommand.self]
    )
}

/// Reads a config and applies the overrides every subcommand shares.
private func loadConfig(_ path: String, seed: UInt64?) throws -> NASConfig {
    var config = try NASConfig.load(path: path)
    if let seed { config.seed = seed }
    return config
}

private func printFlushed(_ line: String) {
    print(line)
    fflush(stdout)
}

// MARK: - search

struct NASSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Train a supernet, rank candidates, retrain the best from scratch.",
        discussion: """
        The run directory (--out, default runs/<name>) receives config.yaml,
        supernet.safetensors, supernet.jsonl (epochs), architecture-weights.jsonl (GAEA,
        DARTS) or sampled-architectures.jsonl and scores.jsonl (RSWS), candidates.json,
        retrain/ (the job farm's journal and checkpoints), chosen.json,
        retrained.safetensors, retrained.json and summary.json.
        """)

    @Option(help: "The search config (YAML or JSON).") var config: String
    @Option(help: "The run directory (default runs/<name>).") var out: String?
    @Option(help: "Override the config's seed.") var seed: UInt64?
    @Option(help: "In-process retraining workers without mpirun (overrides retrain.workers).") var workers: Int?
    @Flag(name: .customLong("skip-retrain"), help: "Stop after ranking candidates with the shared weights.") var skipRetrain = false
    @Flag(help: "No progress lines.") var quiet = false

    func run() throws {
        var settings = try loadConfig(config, seed: seed)
        if let workers {
            guard !Cluster.isUnderMPI else {
                throw NASInputError("--workers is for runs without mpirun; under mpirun, ranks 1..N-1 retrain the candidates")
            }
            guard workers >= 1 else { throw NASInputError("--workers must be at least 1, got \(workers)") }
            settings.retrain.workers = workers
        }
        let comm = try Cluster.world()
        let quiet = self.quiet
        let outcome = try NASSearchRun.run(.init(config: settings, out: out, retrain: !skipRetrain), communicator: comm) { line in
            if !quiet { printFlushed(line) }
        }
        if comm.rank == 0 { print(outcome.summary) }
    }
}

// MARK: - retrain

struct NASRetrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Train one architecture from scratch (data-parallel under mpirun).",
        discussion: """
        --arch takes a NAS-Bench-201 string, inline JSON, or a JSON file such as a run's
        chosen.json. The network, data and training settings come from the config's
        network and retrain sections, so a search's candidates and any other cell train
        with the same budget.
        """)

    @Option(help: "The architecture: NAS-Bench-201 string, JSON, or a JSON file.") var arch: String
    @Option(help: "A search config (YAML or JSON) for network and retrain settings.") var config: String
    @Option(help: "Override retrain.epochs.") var epochs: Int?
    @Option(help: "Override the config's seed.") var seed: UInt64?
    @Option(name: .customLong("checkpoint-out"), help: "Write the trained model here (safetensors).") var checkpointOut: String?
    @Flag(help: "Print the outcome as one JSON line.") var json = false
    @Flag(help: "No per-epoch lines.") var quiet = false

    func run() throws {
        var settings = try loadConfig(config, seed: seed)
        if let epochs {
            guard epochs >= 1 else { throw NASInputError("--epochs must be at least 1, got \(epochs)") }
            settings.retrain.epochs = epochs
        }
        let cell = try CellArchitecture(argument: arch)
        let comm = try Cluster.world()
        let root = comm.rank == 0, chatty = !json && !quiet
        let outcome = try NASRetrainRun.run(cell, config: settings, communicator: comm, checkpointOut: checkpointOut, started: { parameters in
            guard root && chatty else { return }
            printFlushed("retraining \(cell) (\(parameters) parameters) on \(settings.dataset): \(settings.retrain.epochs) epochs, batch \(settings.retrain.batchSize), seed \(settings.seed), \(comm.size) rank(s)")
        }) { e in
            guard chatty else { return }
            printFlushed(String(format: "epoch %d/%d  loss %.4f  train acc %.4f  %.1f s", e.epoch, e.epochs, e.loss, e.accuracy, e.seconds))
        }
        guard root else { return }
        if json {
            let line: JSONValue = .object([("architecture", .string(cell.nasBench201String)), ("epochs", .int(settings.retrain.epochs)),
                                           ("seed", .int(Int(settings.seed))), ("parameters", .int(outcome.parameters)),
                                           ("validation_accuracy", .double(outcome.validationAccuracy)),
                                           ("test_accuracy", .double(outcome.testAccuracy)), ("train_seconds", .double(outcome.trainSeconds)),
                                           ("ranks", .int(outcome.ranks)), ("weights_digest", .string(outcome.weightsDigest))])
            print(line.description)
            return
        }
        print(String(format: "validation accuracy %.4f  test accuracy %.4f  (%d parameters, %.1f s training)",
                     outcome.validationAccuracy, outcome.testAccuracy, outcome.parameters, outcome.trainSeconds))
        print("weights digest \(outcome.weightsDigest)")
    }
}

// MARK: - bench

struct NASBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Supernet training steps per second (data-parallel under mpirun).")

    @Option(help: "The search config (YAML or JSON).") var config: String
    @Option(help: "Training steps to time.") var steps = 50
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        guard steps >= 1 else { throw NASInputError("--steps must be at least 1, got \(steps)") }
        let settings = try loadConfig(config, seed: nil)
        let comm = try Cluster.world()
        let report = try NASBenchmark.supernet(settings, steps: steps, communicator: comm)
        guard comm.rank == 0 else { return }
        let samples = Double(report.steps * settings.search.batchSize) / max(report.seconds, 1e-9)
        if json {
            print(JSONValue.object([("strategy", .string(settings.strategy.rawValue)), ("ranks", .int(report.ranks)),
                                    ("steps", .int(report.steps)), ("seconds", .double(report.seconds)),
                                    ("steps_per_second", .double(report.stepsPerSecond)), ("samples_per_second", .double(samples)),
                                    ("batch", .int(settings.search.batchSize)), ("blas", .string(BLASRuntime.coreName))]).description)
            return
        }
        print(String(format: "%@ supernet, %d rank(s): %d steps of batch %d in %.2f s = %.2f steps/s (%.0f samples/s), BLAS %@",
                     settings.strategy.rawValue, report.ranks, report.steps, settings.search.batchSize, report.seconds,
                     report.stepsPerSecond, samples, BLASRuntime.coreName))
    }
}

// MARK: - show, sample

struct NASShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Check an architecture and print its string and JSON forms.")

    @Option(help: "The architecture: NAS-Bench-201 string, JSON, or a JSON file.") var arch: String

    func run() throws {
        let cell = try CellArchitecture(argument: arch)
        print(cell.nasBench201String)
        print(cell.json.description)
        print("index \(cell.index); live edges \(cell.liveEdges.map { "\(CellArchitecture.edges[$0].from)->\(CellArchitecture.edges[$0].to)" }.joined(separator: " "))")
    }
}

struct NASSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Print uniformly random architectures (connected cells), one per line.")

    @Option(help: "How many.") var count = 8
    @Option(help: "The seed of the draw.") var seed: UInt64 = 1

    func run() throws {
        guard count >= 1 else { throw NASInputError("--count must be at least 1, got \(count)") }
        for cell in ArchitectureSampler.uniform(count: count, seed: seed) { print(cell.nasBench201String) }
    }
}
