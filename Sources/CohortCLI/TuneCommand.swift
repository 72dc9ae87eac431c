import CohortFiles
import ArgumentParser
import CohortCluster
import CohortTune
import CohortPipelines
import Foundation

/// `cohort tune`: ASHA and its family over the job farm.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Run a hyperparameter search (ASHA, SHA, Hyperband, async Hyperband, random).",
        discussion: """
        Under mpirun, rank 0 coordinates and ranks 1..N-1 train:
          mpirun -np 5 cohort tune --config examples/surrogate.yaml
        Without mpirun, --workers K runs the same farm with K in-process workers.
        The run directory (--out, default runs/<name>) holds config.yaml, events.jsonl,
        checkpoints/ and best.json. A killed run continues with --resume --out DIR.
        """
    )

    @OptionGroup var directory: RunDirectoryOptions

    @Option(name: .long, help: "In-process workers when not under mpirun (default 2).")
    var workers: Int?

    @Option(name: .long, help: "Simulate a cluster of N workers on a virtual clock instead of running real workers.")
    var simulateWorkers: Int?

    @Option(name: .long, help: "Simulated job slow-downs: none, lognormal:SIGMA, or fraction:P:K (a fraction P of jobs K times slower).")
    var stragglers: String?

    @Option(name: .long, help: "Simulated probability that a job never answers (noticed after farm.job_timeout).")
    var dropProbability: Double?

    @Option(name: .long, help: "Simulated seconds every job costs besides training (messages, journal, checkpoints).")
    var jobOverhead: Double?

    @Flag(name: .long, help: "Check the journal in --out instead of running: every promotion legal, every job answered once.")
    var audit = false

    func run() throws {
        if audit {
            guard let out = directory.out else { throw ValidationError("--audit needs --out DIR") }
            let violations: [JournalAudit.Violation]
            do {
                violations = try JournalAudit.check(run: RunDirectory(URL(fileURLWithPath: out)), catalog: .withPipelines)
            } catch {
                throw TuneRunner.TuneInputError("\(error)")
            }
            for v in violations { print(v) }
            if !violations.isEmpty { throw TuneRunner.TuneInputError("journal of \(out): \(violations.count) violations") }
            print("journal of \(out): every decision legal, every job answered once")
            return
        }
        var simulation: SimulationOptions?
        if let n = simulateWorkers {
            let model: StragglerModel
            do { model = try StragglerModel(parsing: stragglers ?? "none") } catch { throw TuneRunner.TuneInputError("\(error)") }
            simulation = SimulationOptions(workers: n, stragglers: model, dropProbability: dropProbability ?? 0, jobOverhead: jobOverhead ?? 0)
        } else if stragglers != nil || dropProbability != nil || jobOverhead != nil {
            throw TuneRunner.TuneInputError("--stragglers, --drop-probability and --job-overhead shape a simulated cluster: add --simulate-workers N")
        }
        var options = TuneOptions(configPath: directory.config, out: directory.out, resume: directory.resume, workers: workers,
                                  progress: !directory.quiet, syncJournal: !directory.noFsync, simulation: simulation)
        options.whenWorkersUnfinished = { Self.report($0) }
        guard let outcome = try TuneRunner.run(options, catalog: .withPipelines) else { return }
        Self.report(outcome)
    }

    /// Prints what the run did. Workers that may still be training (lost, or busy
    /// when a stop's grace ran out) cannot be waited for: the job ends here, with
    /// status 0, since the journal already holds everything (MPI_Abort under mpirun).
    static func report(_ outcome: TuneOutcome) {
        print(outcome.summary)
        print("run directory: \(outcome.runDirectory.path)")
        fflush(stdout)
        if !outcome.unfinishedWorkers.isEmpty {
            let ranks = outcome.unfinishedWorkers.map(String.init).joined(separator: ", ")
            FileHandle.standardError.write(Data("worker ranks \(ranks) may still be training and cannot be waited for; ending them\n".utf8))
            Cluster.abort(code: 0)
        }
    }
}
