import CohortCluster

/// A training run cannot start because of its input (data files, a checkpoint). Every
/// rank reads the same input and fails the same way, so it is reported once.
public struct TrainingInputError: UniformError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
