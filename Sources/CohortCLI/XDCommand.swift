import ArgumentParser
import CohortCluster
import CohortTensor
import CohortXD
import Foundation

/// `cohort xd`: trains a backbone, its XD-operation conversion and a baseline on one
/// task with one budget, and compares their test metrics.
struct XDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xd",
        abstract: "Compare a conv backbone, its XD-operation conversion and a baseline (FNO, or the unpermuted backbone).",
        discussion: """
        Every rank trains each model data-parallel (one allreduce of the flat gradient
        buffer per step; the K-matrices have their own optimizer):
          scripts/mpirun.sh -np 2 cohort xd --config examples/xd-burgers.yaml
          cohort xd --config examples/xd-permuted-fashion.yaml --seed 2 --out runs/xd-pf-2
        The run directory (--out, default runs/<name>) holds config.yaml, events.jsonl
        (one line per model and epoch), checkpoints/<model>.safetensors, summary.json
        (the test metric of each model, byte-identical for one seed and rank count) and
        timing.json. A killed run continues where it stopped with --resume --out DIR.
        """
    )

    @OptionGroup var directory: RunDirectoryOptions

    @Option(name: .long, help: "Override the config's seed (weights and batch order; the data keeps task.data_seed).")
    var seed: UInt64?

    @Option(name: .customLong("stop-after-epochs"), help: .hidden)
    var stopAfterEpochs: Int?

    func run() throws {
        if let stopAfterEpochs, stopAfterEpochs < 0 { throw ValidationError("--stop-after-epochs must be at least 0") }
        let launch = try DataParallelLaunch(quiet: directory.quiet)
        let options = XDComparisonRun.Options(configPath: directory.config, out: directory.out, resume: directory.resume,
                                              stopAfterEpochs: stopAfterEpochs, seed: seed)
        let outcome = try XDComparisonRun.run(options, communicator: launch.communicator, log: launch.progress)
        guard launch.isRoot else { return }
        guard outcome.finished else {
            print("stopped after \(stopAfterEpochs ?? 0) epochs; continue with --resume --out \(outcome.runDirectory.path)")
            return
        }
        let metric = outcome.config.metric
        let rows = outcome.results.map { r in
            [r.model.rawValue, String(format: "%.4f", r.testMetric), String(r.weights), String(r.architectureParameters),
             String(format: "%.2f", r.secondsPerEpoch)]
        }
        print(Table(header: ["model", "test \(metric)", "weights", "K, L, M", "s/epoch"], rows: rows).rendered)
        print("run directory: \(outcome.runDirectory.path)")
    }
}
