import ArgumentParser
import CohortCluster
import CohortORCA
import CohortTensor
import Foundation

/// `cohort orca run` (the default of `cohort orca`): the three variants on one task.
struct ORCARunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train from scratch, fine-tune the pretrained body, and align-then-fine-tune (ORCA) on one task; compare.",
        discussion: """
        Every rank trains each variant data-parallel (one allreduce of the gradients per step):
          scripts/mpirun.sh -np 2 cohort orca --config examples/orca-wine.yaml
          cohort orca --config examples/orca-burgers.yaml --seed 2 --out runs/orca-burgers-2
        The run directory (--out, default runs/<name>) holds config.yaml, events.jsonl (the
        embedder's MMD² to the text features, each alignment and training epoch),
        checkpoints/<variant>.safetensors, summary.json (byte-identical for one seed and
        rank count) and timing.json. A killed run continues with --resume --out DIR.
        """
    )

    @OptionGroup var directory: RunDirectoryOptions

    @Option(name: .long, help: "Override the config's seed (weights, batch order, source sentences; the data keeps task.data_seed).")
    var seed: UInt64?

    @Option(name: .customLong("stop-after-epochs"), help: .hidden)
    var stopAfterEpochs: Int?

    func run() throws {
        if let stopAfterEpochs, stopAfterEpochs < 0 { throw ValidationError("--stop-after-epochs must be at least 0") }
        let launch = try DataParallelLaunch(quiet: directory.quiet)
        let options = ORCARun.Options(configPath: directory.config, out: directory.out, resume: directory.resume,
                                      stopAfterEpochs: stopAfterEpochs, seed: seed)
        let outcome = try ORCARun.run(options, communicator: launch.communicator, log: launch.progress)
        guard launch.isRoot else { return }
        guard outcome.finished else {
            print("stopped after \(stopAfterEpochs ?? 0) epochs; continue with --resume --out \(outcome.runDirectory.path)")
            return
        }
        let rows = outcome.results.map { r in
            [r.variant.rawValue, String(format: "%.4f", r.testMetric), String(format: "%.5f", r.initialDistance),
             String(format: "%.5f", r.alignedDistance), String(format: "%.1f", r.alignSeconds), String(format: "%.1f", r.trainSeconds)]
        }
        print(Table(header: ["variant", "test \(outcome.config.metric)", "MMD² before", "MMD² after align", "align s", "train s"], rows: rows).rendered)
        print("run directory: \(outcome.runDirectory.path)")
    }
}
