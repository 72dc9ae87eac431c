import ArgumentParser

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tune", abstract: "Run a hyperparameter search.")

    func run() throws {
        throw ValidationError("'tune' is not built yet")
    }
}
