import CohortCluster

/// Input that cannot be used: a bad architecture, config, flag or rank count. Every
/// rank reads the same input and raises the same error, so it is reported once
/// (`UniformError`), as one line.
public struct NASInputError: UniformError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
