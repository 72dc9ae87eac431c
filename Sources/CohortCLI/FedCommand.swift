import ArgumentParser

struct FedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fed", abstract: "Run federated training rounds (FedAvg, FedProx, FedEx).")

    func run() throws {
        throw ValidationError("'fed' is not built yet")
    }
}
