import CohortCluster

/// A problem with what the user gave an ORCA run (config, checkpoint, vocabulary, data):
/// one readable line, raised identically on every rank.
public struct ORCAInputError: UniformError, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
