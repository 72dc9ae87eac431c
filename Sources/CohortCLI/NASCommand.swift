import ArgumentParser

struct NASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nas", abstract: "Run a weight-sharing architecture search.")

    func run() throws {
        throw ValidationError("'nas' is not built yet")
    }
}
