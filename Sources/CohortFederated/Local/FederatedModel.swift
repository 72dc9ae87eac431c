import CohortData
import CohortFiles
import CohortTensor

/// A model as the federated rounds see it: trainable values in one flat `Float` buffer,
/// plus local training and evaluation on a client's data.
///
/// The round engine never looks inside the model. It copies the global model into
/// `parameters`, asks for local training, and reads `parameters` back, so averaging a
/// model of any architecture is one collective over one buffer. A tensor-core `Model`
/// satisfies this through its flat parameter buffer; tests use small hand-made models.
public protocol FederatedModel: AnyObject {
    /// The trainable values, one contiguous buffer that stays valid while the model lives.
    var parameters: UnsafeMutableBufferPointer<Float> { get }

    /// Fills `parameters` with initial values drawn only from `stream`.
    func initializeParameters(_ stream: RandomStream)

    /// Trains from the current `parameters` on `data` as `plan` says, leaving the
    /// result in `parameters`. Must draw its randomness (batch order, dropout) only from
    /// the plan's seed and stream, so a client trains identically on any rank.
    func train(on data: Dataset, plan: LocalTrainingPlan) throws -> LocalTrainingReport

    /// Scores the current `parameters` on `data` without changing them.
    func evaluate(on data: Dataset) throws -> EvaluationSums
}

/// How one client trains in one round.
public struct LocalTrainingPlan {
    /// Step size, momentum, weight decay, batch size and FedProx's mu.
    public var hyperparameters: LocalHyperparameters
    /// Passes over the data; fewer than `hyperparameters.epochs` for a straggler doing
    /// partial work.
    public var epochs: Int
    /// The experiment seed and the identities that name this client's streams in this
    /// round (batch order, dropout): `[purpose, round, client]`.
    public var seed: UInt64
    public var stream: [UInt64]
    /// The round's global model: the anchor of FedProx's proximal term
    /// `mu/2 ||w - anchor||^2`, whose gradient `mu (w - anchor)` joins every local step.
    public var anchor: UnsafeBufferPointer<Float>

    public init(hyperparameters: LocalHyperparameters, epochs: Int, seed: UInt64, stream: [UInt64],
                anchor: UnsafeBufferPointer<Float>) {
        self.hyperparameters = hyperparameters
        self.epochs = epochs
        self.seed = seed
        self.stream = stream
        self.anchor = anchor
    }
}

/// What local training reports back.
public struct LocalTrainingReport: Equatable, Sendable {
    /// The sum of the minibatch mean losses over all local steps.
    public var lossSum: Double
    /// Local steps taken.
    public var steps: Int

    public init(lossSum: Double, steps: Int) {
        self.lossSum = lossSum
        self.steps = steps
    }

    /// The mean minibatch loss over the local steps (0 when no step was taken).
    public var meanLoss: Double { steps > 0 ? lossSum / Double(steps) : 0 }
}

/// Sums that pool over clients: a loss sum, a correct count and a sample count.
public struct EvaluationSums: Equatable, Sendable {
    /// The sum of the per-sample losses.
    public var lossSum: Double
    /// Samples whose most likely class is the label.
    public var correct: Int
    /// Samples scored.
    public var count: Int

    public init(lossSum: Double = 0, correct: Int = 0, count: Int = 0) {
        self.lossSum = lossSum
        self.correct = correct
        self.count = count
    }

    public var accuracy: Double { count > 0 ? Double(correct) / Double(count) : 0 }
    public var meanLoss: Double { count > 0 ? lossSum / Double(count) : 0 }

    public static func + (a: EvaluationSums, b: EvaluationSums) -> EvaluationSums {
        EvaluationSums(lossSum: a.lossSum + b.lossSum, correct: a.correct + b.correct, count: a.count + b.count)
    }
}

/// Builds a fresh model for data of a given shape; every rank builds its own.
public protocol FederatedModelFactory {
    /// A short description for records, e.g. `logistic` or `mlp(200,200)`.
    var name: String { get }
    func makeModel(sampleShape: [Int], classCount: Int) throws -> FederatedModel

    /// The model of rank `rank` of a run kept in `run` (a model in a program of its own
    /// keeps the program's output there); the default is the plain `makeModel`.
    func makeModel(sampleShape: [Int], classCount: Int, run: RunDirectory, rank: Int) throws -> FederatedModel
}

extension FederatedModelFactory {
    public func makeModel(sampleShape: [Int], classCount: Int, run: RunDirectory, rank: Int) throws -> FederatedModel {
        try makeModel(sampleShape: sampleShape, classCount: classCount)
    }
}

/// Thrown by `FederatedModel.train` when local training produced a non-finite loss; the
/// round engine then leaves the client out of the average (and FedEx counts it as the
/// round's worst loss) instead of failing the run.
public struct LocalTrainingDiverged: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "local training diverged (non-finite loss)" }
}
