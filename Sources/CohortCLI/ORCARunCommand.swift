import ArgumentParser

struct ORCARunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")
    func run() throws {}
}
