import CohortFiles
import ArgumentParser
import CohortCluster
import Foundation

/// The `cohort` command: thin parsing over the library entry points.
@main
struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Hyperparameter search, weight-sharing NAS and federated training over MPI.",
        discussion: """
        Launch with mpirun to use many processes: rank 0 coordinates, the others work.
        Without mpirun, commands run in this process (some take --workers).
        """,
        subcommands: [InfoCommand.self, TrainCommand.self, TuneCommand.self, FedCommand.self, NASCommand.self, XDCommand.self, MetaCommand.self, ORCACommand.self, BenchCommand.self, ReportCommand.self]
    )

    /// Parses and runs like ArgumentParser's own `main`, but under `mpirun` prints a
    /// usage or input error once (rank 0) instead of once per rank, and ends every rank
    /// when one rank fails alone.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            Cluster.finalize()
        } catch {
            exitReporting(error)
        }
    }

    private static func exitReporting(_ error: Error) -> Never {
        // A command that has already said why it failed only sets the status.
        if let code = error as? ExitCode {
            Cluster.finalize()
            Foundation.exit(code.rawValue)
        }
        let uniform = uniformMessage(error)
        let sameOnEveryRank = uniform != nil || error is ValidationError || isParseOrHelp(error)
        if sameOnEveryRank {
            if Cluster.launchRank == 0 {
                if let uniform {
                    FileHandle.standardError.write(Data("Error: \(uniform)\n".utf8))
                    Cluster.finalize()
                    Foundation.exit(2)
                }
                reportParseError(error)
            }
            // The other ranks leave with status 0: rank 0's status is the job's, and a
            // rank exiting non-zero first makes mpirun end the job before it has
            // forwarded rank 0's message (which then is lost, now and then).
            Cluster.finalize()
            Foundation.exit(0)
        }
        let prefix = Cluster.launchSize > 1 ? "rank \(Cluster.launchRank): " : ""
        FileHandle.standardError.write(Data("Error: \(prefix)\(error)\n".utf8))
        if Cluster.launchSize > 1 { Cluster.abort(code: 1) }
        Foundation.exit(1)
    }

    /// The message of an error every rank raises identically (bad input: a config, a
    /// run directory), which is printed once; nil for any other error.
    private static func uniformMessage(_ error: Error) -> String? {
        switch error {
        case let e as UniformError: return e.description
        case let e as ConfigError: return e.issues.count == 1 ? e.description : "the config has \(e.issues.count) problems:\n" + e.description
        case let e as RunDirectoryError: return e.description
        default: return nil
        }
    }

    /// Help goes to stdout whole; a usage error is one line on stderr naming where help is.
    private static func reportParseError(_ error: Error) -> Never {
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
            Cluster.finalize()
            Foundation.exit(0)
        }
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var line = lines.first ?? "\(error)"
        if !line.hasPrefix("Error:") { line = "Error: " + line }
        if let hint = lines.first(where: { $0.hasPrefix("See '") }) { line += " (\(hint.dropLast(1).replacingOccurrences(of: "See ", with: "see ")))" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        Cluster.finalize()
        Foundation.exit(code.rawValue)
    }

    /// ArgumentParser's own errors (unknown flags, help requests) are not public types;
    /// they are the ones it maps to a message without being thrown by our code.
    private static func isParseOrHelp(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }
}

/// `cohort bench ...`: measurements that compare Cohort with the layer beneath it.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: collectives, the tensor core, and schedulers on simulated clusters.",
        subcommands: [BenchAllreduceCommand.self, BenchIdleCommand.self, BenchTensorCommand.self, BenchSimCompareCommand.self, BenchAgreementCommand.self, BenchScalingCommand.self, BenchCacheReplayCommand.self]
    )
}
