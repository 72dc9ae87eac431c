import ArgumentParser
import CohortCluster
import CohortFiles
import CohortMeta
import CohortTensor
import Foundation

/// `cohort meta`: meta-trains ProtoNets, first-order MAML or Reptile on Omniglot under a
/// labelled-point budget, then meta-tests on held-out characters and Lake's runs.
struct MetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Few-shot meta-learning (ProtoNets, first-order MAML, Reptile) under a labelled-point budget.",
        discussion: """
        Every rank adapts its share of each meta-batch's tasks; one allreduce of the flat
        meta-gradient per meta-iteration:
          scripts/mpirun.sh -np 2 cohort meta --config examples/meta-protonets-omniglot.yaml
          cohort meta --config examples/meta-fomaml-omniglot.yaml --budget 3000 --out runs/fomaml-3k
        The run directory (--out, default runs/<name>) holds config.yaml, events.jsonl,
        checkpoints/meta.safetensors, summary.json (test accuracies with 95% intervals,
        byte-identical for one seed and rank count) and timing.json. A killed run
        continues where it stopped with --resume --out DIR.
        """
    )

    @OptionGroup var directory: RunDirectoryOptions

    @Option(name: .long, help: "Override the config's seed.")
    var seed: Int?

    @Option(name: .long, help: "Override the budget: labelled points over meta-training, or 'all'.")
    var budget: String?

    @Option(name: .long, help: "Override the learner: protonets, fomaml or reptile.")
    var learner: String?

    @Option(name: .long, help: "Override training.steps (meta-iterations).")
    var steps: Int?

    @Option(name: .long, help: "Override selection.train: uniform or coverage.")
    var selection: String?

    @Option(name: .long, help: "Override evaluation.episodes.")
    var testEpisodes: Int?

    @Option(name: .long, help: "Override data.directory (Omniglot's release files).")
    var data: String?

    @Option(name: .customLong("stop-after-steps"), help: .hidden)
    var stopAfterSteps: Int?

    func run() throws {
        if let stopAfterSteps, stopAfterSteps < 0 { throw ValidationError("--stop-after-steps must be at least 0") }
        if let seed, seed < 0 { throw ValidationError("--seed must be at least 0") }
        var overrides: [(path: [String], value: JSONValue)] = []
        if let seed { overrides.append((["seed"], .int(seed))) }
        if let budget { overrides.append((["budget"], Int(budget).map { .int($0) } ?? .string(budget))) }
        if let learner { overrides.append((["learner", "type"], .string(learner))) }
        if let steps { overrides.append((["training", "steps"], .int(steps))) }
        if let selection { overrides.append((["selection", "train"], .string(selection))) }
        if let testEpisodes { overrides.append((["evaluation", "episodes"], .int(testEpisodes))) }
        if let data { overrides.append((["data", "directory"], .string(data))) }
        let launch = try DataParallelLaunch(quiet: directory.quiet)
        let options = MetaRun.Options(configPath: directory.config, out: directory.out, resume: directory.resume,
                                      stopAfterSteps: stopAfterSteps, overrides: overrides)
        let outcome = try MetaRun.run(options, communicator: launch.communicator, log: launch.progress)
        guard launch.isRoot else { return }
        guard outcome.finished else {
            print("stopped after \(stopAfterSteps ?? 0) meta-iterations; continue with --resume --out \(outcome.runDirectory.path)")
            return
        }
        let rows = outcome.scores.map { s in
            [s.name, s.selection, String(format: "%.4f", s.mean), String(format: "%.4f", s.interval), String(s.episodes)]
        }
        print("\(outcome.config.learner.rawValue), budget \(outcome.config.budget.map(String.init) ?? "all")"
              + (outcome.tasks.map { " (\($0) tasks)" } ?? "") + String(format: ", %.3f s per meta-iteration", outcome.secondsPerStep))
        print(Table(header: ["meta-test", "support", "accuracy", "95% +-", "episodes"], rows: rows).rendered)
        print("run directory: \(outcome.runDirectory.path)")
    }
}
