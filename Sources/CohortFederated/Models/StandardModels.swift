import CohortFiles
import CohortTensor
import CohortTune

extension FederatedModelCatalog {
    /// The models `cohort fed` configs can name, all built on the tensor core:
    ///
    /// - `logistic`: multinomial logistic regression, one Linear layer from the flattened
    ///   sample to the classes (the convex model of the FedAvg/FedProx Synthetic
    ///   experiments). `init: zero` (default) starts every weight at zero, the convex
    ///   problem's natural start; `init: glorot` draws the weights Glorot-uniform with zero
    ///   biases, as FedProx's reference code does (TensorFlow's dense-layer default).
    /// - `mlp`: Linear layers of sizes `hidden` (default [200, 200], FedAvg's "2NN") with
    ///   `activation` (relu, tanh, sigmoid, gelu) between them.
    /// - `char_lstm`: a next-character model over index sequences (LEAF's Shakespeare
    ///   model by default: an embedding of 8, two LSTM layers of 256, a softmax over the
    ///   vocabulary); `cell: gru` for GRU layers (``CharacterModelFactory``).
    /// - `command`: a user's model in a program of its own (``CommandModelFactory``).
    public static var standard: FederatedModelCatalog {
        FederatedModelCatalog([
            ("logistic", { spec in try TensorModelFactory(spec: spec, hidden: [], allowed: ["type", "init"]) }),
            ("mlp", { spec in try TensorModelFactory(spec: spec, hidden: [200, 200], allowed: ["type", "hidden", "activation"]) }),
            ("char_lstm", { spec in try CharacterModelFactory(spec: spec) }),
            ("command", { spec in try CommandModelFactory(spec: spec) }),
        ])
    }
}

/// Builds `TensorCoreModel`s: logistic regression (no hidden layer) or an MLP.
struct TensorModelFactory: FederatedModelFactory {
    /// How logistic regression's weights start.
    enum LogisticInit: String, CaseIterable { case zero, glorot }

    let hidden: [Int]
    let activation: Activation.Kind
    let logisticInit: LogisticInit
    let name: String

    init(spec: FederatedModelSpec, hidden defaultHidden: [Int], allowed: [String]) throws {
        let issues = ConfigIssues()
        let section = ConfigSection(.object(spec.fields), path: "model", issues: issues)
        var hidden = defaultHidden
        var activation = Activation.Kind.relu
        var logisticInit = LogisticInit.zero
        if let section {
            if allowed.contains("hidden") { hidden = section.integers("hidden", min: 1, max: 1 << 16) ?? defaultHidden }
            if allowed.contains("activation") { activation = section.choice("activation", activation) }
            if allowed.contains("init") { logisticInit = section.choice("init", logisticInit) }
            section.finish(also: ["type"])
        }
        try issues.throwIfAny()
        self.hidden = hidden
        self.activation = activation
        self.logisticInit = logisticInit
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
        return try TensorCoreModel(module: module, inputShape: [features], zeroInitialization: hidden.isEmpty && logisticInit == .zero)
    }
}
