import ArgumentParser

struct BenchTensorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tensor", abstract: "Time BLAS, model steps and convolutions.")

    func run() throws {
        throw ValidationError("'tensor' is not built yet")
    }
}
