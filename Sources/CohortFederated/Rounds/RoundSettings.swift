/// Everything that decides what one federated training run computes.
///
/// Two runs with equal settings, data and rank count produce bit-identical global models
/// after every round; with another rank count they differ only by the order in which
/// floating-point sums are added.
public struct RoundSettings: Equatable, Sendable {
    /// Rounds to train.
    public var rounds: Int
    /// Clients per round and stragglers.
    public var sampling: ClientSampling
    /// The clients' local training: fixed (FedAvg, FedProx), or the base that FedEx's
    /// draws override.
    public var local: LocalHyperparameters
    /// The server's update rule.
    public var server: ServerOptimizerSettings
    /// FedEx over local hyperparameters; `nil` trains every client with `local`.
    public var fedex: FedExSetup?
    /// Evaluate the global model every this many rounds (and after the last).
    public var evaluateEvery: Int
    /// The experiment seed every stream derives from.
    public var seed: UInt64
    /// Which arm of an outer search this run is (names the FedEx draw streams).
    public var arm: Int
    /// Whether an arm's final score also fine-tunes the global model on every client
    /// with the tuned local configuration before scoring it there (FedEx's evaluation
    /// of personalised performance); see `FederatedRounds.evaluateFineTuned()`.
    public var fineTuneForEvaluation: Bool
    /// Which FedEx configuration each client fine-tunes with.
    public var fineTuneConfiguration: FineTuneConfiguration
    /// Whether every round scores its clients' locally trained models on their validation
    /// samples even without FedEx (an arm scored by its training rounds needs it).
    public var scoresClientsAfterTraining = false

    public init(rounds: Int, sampling: ClientSampling, local: LocalHyperparameters,
                server: ServerOptimizerSettings = .fedAvg, fedex: FedExSetup? = nil,
                evaluateEvery: Int = 1, seed: UInt64, arm: Int = 0, fineTuneForEvaluation: Bool = false,
                fineTuneConfiguration: FineTuneConfiguration = .mostLikely) {
        self.fineTuneConfiguration = fineTuneConfiguration
        self.rounds = rounds
        self.sampling = sampling
        self.local = local
        self.server = server
        self.fedex = fedex
        self.evaluateEvery = evaluateEvery
        self.seed = seed
        self.arm = arm
        self.fineTuneForEvaluation = fineTuneForEvaluation
    }

    /// Checks every value against the federation it will run on.
    public func validate(for data: FederatedDataset) throws {
        try FederatedError.requireAtLeast(rounds, 1, "rounds")
        try FederatedError.requireAtLeast(evaluateEvery, 1, "evaluation.every")
        try sampling.validate(population: data.clients.count)
        try local.validate(field: "local")
        try server.validate()
        if let fedex {
            try fedex.settings.validate()
            _ = try fedex.space.hyperparameters(fedex.space.sizes.map { _ in 0 }, base: local)
            if data.clients.allSatisfy({ $0.validation.count == 0 }) {
                throw FederatedError.invalidValue(
                    field: "fedex", message: "scores local configurations on validation samples, but no client has any; set data.validation_fraction")
            }
        }
    }
}

/// The local configuration a client fine-tunes with when an arm is scored: FedEx's most
/// likely one (the default here), or one each client draws from theta, as the
/// reference's test does unless asked for the most likely (both the most likely once
/// theta is frozen).
public enum FineTuneConfiguration: String, Sendable, CaseIterable {
    case mostLikely = "most_likely"
    case sampled
}

/// FedEx's search space and learning settings for one run.
public struct FedExSetup: Equatable, Sendable {
    public var space: FedExSpace
    public var settings: FedExDistribution.Settings
    /// What a client reports after local training.
    public var validationLoss: FedExValidationLoss
    /// Report the change local training made (loss after minus the global model's loss
    /// before, on the same validation samples) instead of the loss after. The global
    /// model's own improvement from round to round then cancels out, so configurations
    /// drawn early are not all rewarded against a baseline that lags behind it.
    public var reportsDifference: Bool

    public init(space: FedExSpace, settings: FedExDistribution.Settings, validationLoss: FedExValidationLoss = .error,
                reportsDifference: Bool = false) {
        self.space = space
        self.settings = settings
        self.validationLoss = validationLoss
        self.reportsDifference = reportsDifference
    }
}

/// The loss a client reports to FedEx: its locally trained model's error rate on its
/// validation samples (as FedEx's reference code does), or their mean cross-entropy.
public enum FedExValidationLoss: String, Codable, Sendable, CaseIterable {
    case error
    case crossEntropy = "cross_entropy"

    func value(_ sums: EvaluationSums) -> Double {
        switch self {
        case .error: return sums.count > 0 ? 1 - sums.accuracy : 0
        case .crossEntropy: return sums.meanLoss
        }
    }
}
