import CohortCluster

/// A problem with what the user gave a meta-learning run (config, data, flags): one
/// readable line, raised identically on every rank.
public struct MetaInputError: UniformError, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
