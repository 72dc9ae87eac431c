import CohortTensor
import CohortTune

extension FederatedModelCatalog {
    /// The models `cohort fed` configs can name, all built on the tensor core:
    ///
    /// - `logistic`: multinomial logistic regression, one Linear layer from the flattened
    ///   sample to the classes, starting at zero (the convex model of the FedAvg/FedProx
    ///   Synthetic experiments).
    /// - `mlp`: Linear layers of sizes `hidden` (default [200, 200], FedAvg's "2NN") with
    ///   `activation` (relu, tanh, sigmoid, gelu) between them.
    public static var standard: FederatedModelCatalog {
        FederatedModelCatalog([
            ("logistic", { spec in try TensorModelFactory(spec: spec, hidden: [], allowed: ["type"]) }),
            ("mlp", { spec in try TensorModelFactory(spec: spec, hidden: [200, 200], allowed: ["type", "hidden", "activation"]) }),
        ])
    }
}

/// Builds `TensorCoreModel`s: logistic regression (no hidden layer) or an MLP.
struct TensorModelFactory: FederatedModelFactory {
    let hidden: [Int]
    let activation: Activation.Kind
    let name: String

    init(spec: FederatedModelSpec, hidden defaultHidden: [Int], allowed: [String]) throws {
        var issues: [String] = []
        for (key, _) in spec.fields where !allowed.contains(key) {
            issues.append("model.\(key): is not a setting of a \(spec.type) model (settings: \(allowed.dropFirst().joined(separator: ", ")))")
        }
        var hidden = defaultHidden
        if let raw = spec["hidden"] {
            if let list = raw.arrayValue, let sizes = Optional(list.compactMap(\.intValue)), sizes.count == list.count,
               sizes.allSatisfy({ $0 > 0 }) {
                hidden = sizes
            } else {
                issues.append("model.hidden: must be a list of positive layer widths, e.g. [200, 200]")
            }
        }
        var activation = Activation.Kind.relu
        if let raw = spec["activation"] {
            if let name = raw.stringValue, let kind = Activation.Kind(rawValue: name) { activation = kind } else {
                issues.append("model.activation: must be one of \(Activation.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        guard issues.isEmpty else { throw FederatedError.config(issues) }
        self.hidden = hidden
        self.activation = activation
        name = hidden.isEmpty ? "logistic" : "mlp(\(hidden.map(String.init).joined(separator: ",")))"
    }

    func makeModel(sampleShape: [Int], classCount: Int) throws -> FederatedModel {
        let features = sampleShape.reduce(1, *)
        let module: Module
        if hidden.isEmpty {
            module = Linear(features, classCount, weightInit: .xavierUniform)
        } else {
            do { module = try MLP.make(sizes: [features] + hidden + [classCount], activation: activation) } catch {
                throw FederatedError.invalidValue(field: "model", message: "\(error)")
            }
        }
        return try TensorCoreModel(module: module, inputShape: [features], zeroInitialization: hidden.isEmpty)
    }
}
