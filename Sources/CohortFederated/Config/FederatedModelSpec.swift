import CohortFiles
import CohortTune

/// The `model:` section: a type name and the fields that type reads.
///
/// ```yaml
/// model:
///   type: mlp
///   hidden: [200, 200]
/// ```
public struct FederatedModelSpec: Equatable, Sendable {
    public var type: String
    /// Every field of the section, `type` included, in the order written.
    public var fields: [(key: String, value: JSONValue)]

    public init(type: String, fields: [(key: String, value: JSONValue)] = []) {
        self.type = type
        self.fields = fields
    }

    public subscript(key: String) -> JSONValue? { fields.first { $0.key == key }?.value }

    public static func == (a: FederatedModelSpec, b: FederatedModelSpec) -> Bool {
        a.type == b.type && JSONValue.object(a.fields) == JSONValue.object(b.fields)
    }
}

/// The models a config may name, each with a builder that checks its fields.
public struct FederatedModelCatalog {
    public typealias Builder = (FederatedModelSpec) throws -> FederatedModelFactory
    private var builders: [(name: String, build: Builder)]

    public init(_ builders: [(name: String, build: Builder)] = []) { self.builders = builders }

    public var names: [String] { builders.map(\.name) }

    public func builder(named name: String) -> Builder? { builders.first { $0.name == name }?.build }

    /// Adds (or replaces) a model type.
    public mutating func register(_ name: String, _ build: @escaping Builder) {
        builders.removeAll { $0.name == name }
        builders.append((name, build))
    }

    /// The factory for `spec`, or a one-line error naming the known types.
    public func factory(for spec: FederatedModelSpec) throws -> FederatedModelFactory {
        guard let build = builder(named: spec.type) else {
            throw FederatedError.invalidValue(
                field: "model.type", message: "unknown model '\(spec.type)' (expected one of \(names.isEmpty ? "none yet" : names.joined(separator: ", ")))")
        }
        return try build(spec)
    }
}
