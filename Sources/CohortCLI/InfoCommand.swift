import ArgumentParser

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print each rank's host, MPI and BLAS setup.")

    func run() throws {
        throw ValidationError("'info' is not built yet")
    }
}
