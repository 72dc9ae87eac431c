/// A problem with what the user gave an XD run (config, data, an operation that cannot
/// stand in for a convolution): one readable line.
public struct XDInputError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
