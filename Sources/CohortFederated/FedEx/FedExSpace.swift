/// The local configurations FedEx chooses among, and how a draw of indices becomes
/// `LocalHyperparameters`.
///
/// Two layouts, both a product of categoricals to `FedExDistribution`:
/// - a grid: one categorical per hyperparameter over its values (the distribution has
///   `sum k_i` log-weights for `prod k_i` configurations);
/// - whole configurations: one categorical over k complete settings.
public struct FedExSpace: Codable, Equatable, Sendable {
    /// One categorical: its name and, per choice, the hyperparameters the choice sets.
    public struct Categorical: Codable, Equatable, Sendable {
        public var name: String
        public var choices: [[String: Double]]
    }

    public private(set) var categoricals: [Categorical]

    /// A grid: one categorical per hyperparameter, in the given order.
    public static func grid(_ axes: [(name: String, values: [Double])],
                            base: LocalHyperparameters = LocalHyperparameters()) throws -> FedExSpace {
        guard !axes.isEmpty else {
            throw FederatedError.invalidValue(field: "fedex.grid", message: "needs at least one hyperparameter")
        }
        var seen = Set<String>()
        let categoricals: [Categorical] = try axes.map { axis in
            guard seen.insert(axis.name).inserted else {
                throw FederatedError.invalidValue(field: "fedex.grid.\(axis.name)", message: "is given twice")
            }
            guard !axis.values.isEmpty else {
                throw FederatedError.invalidValue(field: "fedex.grid.\(axis.name)", message: "needs at least one value")
            }
            return Categorical(name: axis.name, choices: axis.values.map { [axis.name: $0] })
        }
        let space = FedExSpace(categoricals: categoricals)
        try space.validate(base: base, field: "fedex.grid")
        return space
    }

    /// One categorical over whole configurations.
    public static func configurations(_ configurations: [[String: Double]],
                                      base: LocalHyperparameters = LocalHyperparameters()) throws -> FedExSpace {
        guard !configurations.isEmpty else {
            throw FederatedError.invalidValue(field: "fedex.configurations", message: "needs at least one configuration")
        }
        let space = FedExSpace(categoricals: [Categorical(name: "configuration", choices: configurations)])
        try space.validate(base: base, field: "fedex.configurations")
        return space
    }

    /// Choices per categorical: the sizes of `FedExDistribution`.
    public var sizes: [Int] { categoricals.map(\.choices.count) }

    /// The number of distinct configurations the product spans.
    public var configurationCount: Int { sizes.reduce(1, *) }

    /// `base` with every categorical's chosen settings applied, in categorical order.
    public func hyperparameters(_ indices: [Int], base: LocalHyperparameters) throws -> LocalHyperparameters {
        guard indices.count == categoricals.count else {
            throw FederatedError.unsatisfiable("a FedEx draw of \(indices.count) indices for \(categoricals.count) categoricals")
        }
        var result = base
        for (categorical, index) in zip(categoricals, indices) {
            guard categorical.choices.indices.contains(index) else {
                throw FederatedError.unsatisfiable("FedEx index \(index) outside the \(categorical.choices.count) choices of \(categorical.name)")
            }
            for name in categorical.choices[index].keys.sorted() {
                result = try result.setting(name, to: categorical.choices[index][name]!, field: "fedex.\(categorical.name)")
            }
        }
        return result
    }

    /// Checks every choice applies to `base` without error.
    private func validate(base: LocalHyperparameters, field: String) throws {
        for categorical in categoricals {
            for (i, choice) in categorical.choices.enumerated() {
                guard !choice.isEmpty else {
                    throw FederatedError.invalidValue(field: "\(field)[\(i)]", message: "sets no hyperparameter")
                }
                var result = base
                for name in choice.keys.sorted() {
                    result = try result.setting(name, to: choice[name]!, field: "\(field).\(categorical.name)[\(i)]")
                }
            }
        }
    }
}
