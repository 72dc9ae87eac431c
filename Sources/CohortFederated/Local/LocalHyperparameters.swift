/// What a client does with the global model in one round: its local training settings.
///
/// FedAvg fixes them for every client; FedEx draws them per client from its distribution.
public struct LocalHyperparameters: Codable, Equatable, Hashable, Sendable {
    /// Local SGD step size.
    public var learningRate: Double
    /// Local SGD momentum (heavy ball); the buffer starts at zero every round.
    public var momentum: Double
    /// L2 weight decay added to the local gradient.
    public var weightDecay: Double
    /// Passes over the client's training samples per round (E).
    public var epochs: Int
    /// Samples per local minibatch (B).
    public var batchSize: Int
    /// FedProx's proximal coefficient: the local objective adds `mu/2 ||w - w_global||^2`.
    public var proximalMu: Double

    public init(learningRate: Double = 0.01, momentum: Double = 0, weightDecay: Double = 0,
                epochs: Int = 1, batchSize: Int = 10, proximalMu: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.epochs = epochs
        self.batchSize = batchSize
        self.proximalMu = proximalMu
    }

    // MARK: Names in configs

    /// The config names of the hyperparameters, in the order records list them.
    public static let names = ["learning_rate", "momentum", "weight_decay", "epochs", "batch_size", "mu"]

    /// The value named `name`.
    public func value(_ name: String) -> Double? {
        switch name {
        case "learning_rate": return learningRate
        case "momentum": return momentum
        case "weight_decay": return weightDecay
        case "epochs": return Double(epochs)
        case "batch_size": return Double(batchSize)
        case "mu": return proximalMu
        default: return nil
        }
    }

    /// A copy with `name` set to `value`; `field` names the config entry in errors.
    public func setting(_ name: String, to value: Double, field: String) throws -> LocalHyperparameters {
        var copy = self
        func whole() throws -> Int {
            guard value.isFinite, value == value.rounded(), value >= 1, value <= 1e9 else {
                throw FederatedError.invalidValue(field: field, message: "\(name) must be a whole number of at least 1, got \(value)")
            }
            return Int(value)
        }
        switch name {
        case "learning_rate": copy.learningRate = value
        case "momentum": copy.momentum = value
        case "weight_decay": copy.weightDecay = value
        case "epochs": copy.epochs = try whole()
        case "batch_size": copy.batchSize = try whole()
        case "mu": copy.proximalMu = value
        default:
            throw FederatedError.invalidValue(
                field: field, message: "unknown local hyperparameter '\(name)'; expected one of \(Self.names.joined(separator: ", "))")
        }
        try copy.validate(field: field)
        return copy
    }

    /// Throws a one-line error for a value out of range.
    public func validate(field: String = "local") throws {
        try FederatedError.requirePositive(learningRate, "\(field).learning_rate")
        guard momentum.isFinite, momentum >= 0, momentum < 1 else {
            throw FederatedError.invalidValue(field: "\(field).momentum", message: "must be in [0, 1), got \(momentum)")
        }
        try FederatedError.requireNonNegative(weightDecay, "\(field).weight_decay")
        try FederatedError.requireAtLeast(epochs, 1, "\(field).epochs")
        try FederatedError.requireAtLeast(batchSize, 1, "\(field).batch_size")
        try FederatedError.requireNonNegative(proximalMu, "\(field).mu")
    }

    /// `learning_rate=0.01 momentum=0 ...` for logs.
    public var summary: String {
        Self.names.map { "\($0)=\(Self.format(value($0)!))" }.joined(separator: " ")
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(x)
    }
}
