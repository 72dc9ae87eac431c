import ArgumentParser

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
        subcommands: [InfoCommand.self, TrainCommand.self, TuneCommand.self, BenchCommand.self]
    )
}

/// `cohort bench ...`: measurements that compare Cohort with the layer beneath it.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: collectives and the tensor core.",
        subcommands: [BenchAllreduceCommand.self, BenchTensorCommand.self]
    )
}
