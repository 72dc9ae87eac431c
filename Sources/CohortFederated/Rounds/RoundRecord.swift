/// What one round did, for the run's journal.
public struct RoundRecord: Equatable, Sendable {
    /// The round's index, from 0.
    public var round: Int
    public var participants: RoundParticipants
    /// The contributing clients' mean local training loss, weighted by sample count.
    public var trainLoss: Double
    /// The summed weight (training samples) of the contributing clients; 0 when every
    /// sampled client dropped out and the global model stayed as it was.
    public var aggregatedWeight: Double
    /// Contributing clients whose local training diverged (non-finite values); they
    /// were left out of the average.
    public var diverged: [Int]
    /// The local configuration each contributing client trained with, in the order of
    /// `participants.contributing`.
    public var localSettings: [LocalHyperparameters]
    /// Each contributing client's validation loss after local training, as FedEx's
    /// `validationLoss` measures it (FedEx runs only); in difference mode, that loss
    /// minus the global model's before training, so it can be negative.
    public var validationLosses: [Double]
    /// FedEx's update, if one was made.
    public var fedexStep: FedExDistribution.Step?
    /// The contributing clients' validation losses after local training, weighted by
    /// their validation samples (FedEx's "refine" trace); `nil` when not measured.
    public var clientScore: Double? = nil
}

/// Pooled scores of the global model.
public struct EvaluationRecord: Equatable, Sendable {
    /// The round after which it was taken (rounds completed).
    public var afterRound: Int
    /// Over every training client's test samples.
    public var test: EvaluationSums
    /// Over every training client's validation samples.
    public var validation: EvaluationSums
    /// Over the held-out clients' test samples (empty when none are held out).
    public var heldOut: EvaluationSums
}

/// The state that continues a run exactly: what a per-round checkpoint holds. Every
/// random stream is named by (seed, round, client), so no generator state is needed.
public struct RoundState: Equatable, Sendable {
    public var completedRounds: Int
    public var global: [Float]
    public var server: ServerOptimizer
    public var fedex: FedExDistribution?

    public init(completedRounds: Int, global: [Float], server: ServerOptimizer, fedex: FedExDistribution?) {
        self.completedRounds = completedRounds
        self.global = global
        self.server = server
        self.fedex = fedex
    }
}
