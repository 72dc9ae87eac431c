import CohortFiles
import ArgumentParser
import CohortCluster
import CohortFederated
import CohortTensor
import Foundation

/// `cohort fed`: federated training rounds (FedAvg, FedProx, adaptive server
/// optimizers), FedEx over local hyperparameters, and searches over arms.
struct FedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fed",
        abstract: "Run federated training rounds (FedAvg, FedProx, FedAdam/FedYogi, FedEx).",
        discussion: """
        Every rank runs the rounds; clients are spread over the ranks and their models
        averaged with one allreduce per round:
          scripts/mpirun.sh -np 5 cohort fed --config examples/fedavg-synthetic.yaml
        The run directory (--out, default runs/<name>) holds config.yaml, events.jsonl
        (one line per round), checkpoints/ (each arm's latest round) and summary.json.
        A killed run continues exactly where it stopped with --resume --out DIR.
        """
    )

    @OptionGroup var directory: RunDirectoryOptions

    @Option(name: .long, parsing: .upToNextOption,
            help: "Compare two run directories instead of running: per-round model digests and final checkpoints.")
    var compare: [String] = []

    @Option(name: .long, help: "With --compare: fail unless the final models differ by at most this much (0: bit-identical in every round).")
    var tolerance: Float?

    @Option(name: .long, help: "Write the federation the config names as LEAF JSON into this directory (train/, test/) instead of running.")
    var exportLeaf: String?

    func run() throws {
        if let exportLeaf {
            guard let config = directory.config else { throw ValidationError("--export-leaf needs --config") }
            let data = try FedConfig.load(path: config).data.load()
            try LEAFFormat.write(data, to: exportLeaf)
            print("wrote \(data.clients.count + data.heldOutClients.count) clients of \(data.name) to \(exportLeaf)/train and \(exportLeaf)/test")
            return
        }
        if !compare.isEmpty {
            guard compare.count == 2 else { throw ValidationError("--compare takes two run directories") }
            let comparison = try RunComparison.compare(compare[0], compare[1])
            print(comparison.report)
            if let tolerance {
                if tolerance == 0 && !comparison.isIdentical {
                    throw ComparisonFailure(message: "the runs are not bit-identical")
                }
                if comparison.maxDifference > tolerance {
                    throw ComparisonFailure(message: "the final models differ by \(comparison.maxDifference), more than \(tolerance)")
                }
            }
            return
        }
        // Clients train small models on small batches: one BLAS thread per rank, and
        // the CPU's real kernel (a single process restarts itself once to get it).
        if !Cluster.isUnderMPI { try BLASKernel.ensureFastKernel() }
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { BLASRuntime.setThreads(1) }
        let comm = try Cluster.world()
        let isRoot = comm.rank == 0
        if isRoot && !directory.quiet, let warning = BLASRuntime.fallbackWarning {
            FileHandle.standardError.write(Data(("warning: " + warning + "\n").utf8))
        }
        let quiet = directory.quiet
        let options = FedOptions(configPath: directory.config, out: directory.out, resume: directory.resume, syncJournal: !directory.noFsync)
        let outcome = try FederatedRunner.run(options, communicator: comm, catalog: .standard) { line in
            if isRoot && !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        guard isRoot else { return }
        print(Self.summary(outcome))
    }

    static func summary(_ outcome: FedOutcome) -> String {
        var lines: [String] = []
        let arms = Set(outcome.results.map(\.arm))
        if arms.count > 1 {
            let top = outcome.results.map(\.rounds).max() ?? 0
            let tuned = outcome.results.contains { $0.tunedTestAccuracy != nil }
            let rows = outcome.results.filter { $0.rounds == top }.sorted { ($0.metric, $0.arm) < ($1.metric, $1.arm) }.map { r in
                [String(r.arm), String(r.rounds), format(r.metric), format(r.testAccuracy),
                 r.validationAccuracy.map(format) ?? "-", r.heldOutAccuracy.map(format) ?? "-"]
                    + (tuned ? [r.tunedTestAccuracy.map(format) ?? "-", r.tunedHeldOutAccuracy.map(format) ?? "-"] : [])
            }
            let header = ["arm", "rounds", "val error", "test acc", "val acc", "held-out acc"]
                + (tuned ? ["tuned test", "tuned held-out"] : [])
            lines.append(Table(header: header, rows: rows).rendered)
            lines.append("")
        }
        if let best = outcome.best {
            var line = arms.count > 1 ? "best arm \(best.arm): " : ""
            line += "after \(best.rounds) rounds, test accuracy \(format(best.testAccuracy))"
            if let v = best.validationAccuracy { line += ", validation accuracy \(format(v))" }
            if let h = best.heldOutAccuracy { line += ", held-out accuracy \(format(h))" }
            lines.append(line)
            if let t = best.tunedTestAccuracy {
                var tunedLine = "fine-tuned on each client: test accuracy \(format(t))"
                if let v = best.tunedValidationAccuracy { tunedLine += ", validation accuracy \(format(v))" }
                if let h = best.tunedHeldOutAccuracy { tunedLine += ", held-out accuracy \(format(h))" }
                lines.append(tunedLine)
            }
        }
        lines.append("run directory: \(outcome.runDirectory.path)")
        return lines.joined(separator: "\n")
    }

    static func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// Two runs that were expected to agree do not.
struct ComparisonFailure: UniformError {
    var message: String
    var description: String { message }
}
