import ArgumentParser

struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce", abstract: "Time allreduce through Cohort and through MPI directly.")

    func run() throws {
        throw ValidationError("'allreduce' is not built yet")
    }
}
