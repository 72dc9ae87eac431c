import CohortCluster

/// A problem with what the user gave an XD run (config, data, an operation that cannot
/// stand in for a convolution): one readable line, raised identically on every rank.
public struct XDInputError: UniformError, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
