import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train one model.")

    func run() throws {
        throw ValidationError("'train' is not built yet")
    }
}
