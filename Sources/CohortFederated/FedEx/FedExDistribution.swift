import CohortTensor
import Foundation

/// FedEx's distribution over local hyperparameters and its exponentiated-gradient update
/// (Khodak et al., "Federated Hyperparameter Tuning: Challenges, Baselines, and
/// Connections to Weight-Sharing", NeurIPS 2021).
///
/// The distribution is a product of independent categoricals: one per hyperparameter
/// over a grid of its values, or a single one over k whole configurations. Each starts
/// uniform. In every round:
///
/// 1. each sampled client draws one index per categorical (`draw(_:)`) and trains with
///    that configuration;
/// 2. it reports its validation loss after local training, weighted by its validation
///    set size (`FedExReport`);
/// 3. `update(_:)` forms, for every categorical and every client j with drawn index
///    `i_j`, the gradient entry `w_j (L_j - b) / theta[i_j]`, where `w_j` are the
///    normalised weights and `b` is the baseline: the discounted mean of past rounds'
///    weighted mean losses, `sum_s lambda^(T-1-s) L_s / sum_s lambda^(T-1-s)` (0 in the
///    first round; lambda = 0 is the latest round, lambda = 1 the plain mean);
/// 4. each categorical steps `z -= eta * grad`, `z -= logsumexp(z)`, with eta from the
///    schedule;
/// 5. when the product's entropy falls below the cutoff the distribution freezes: no more
///    updates, and every draw is the most likely configuration.
public struct FedExDistribution: Codable, Equatable, Sendable {
    /// How the distribution learns; fixed for a run.
    public struct Settings: Codable, Equatable, Sendable {
        public var schedule: FedExStepSchedule
        /// The base step size; `nil` means `sqrt(2 log k)` for each categorical of k choices.
        public var eta0: Double?
        /// The baseline's discount lambda in [0, 1].
        public var baselineDiscount: Double
        /// Freeze once the entropy (nats) is below this; 0 never freezes.
        public var entropyCutoff: Double

        public init(schedule: FedExStepSchedule = .aggressive, eta0: Double? = nil,
                    baselineDiscount: Double = 0.9, entropyCutoff: Double = 0) {
            self.schedule = schedule
            self.eta0 = eta0
            self.baselineDiscount = baselineDiscount
            self.entropyCutoff = entropyCutoff
        }

        public func validate() throws {
            if let eta0 { try FederatedError.requirePositive(eta0, "fedex.eta0") }
            guard baselineDiscount.isFinite, baselineDiscount >= 0, baselineDiscount <= 1 else {
                throw FederatedError.invalidValue(field: "fedex.baseline_discount",
                                                  message: "must be in [0, 1], got \(baselineDiscount)")
            }
            try FederatedError.requireNonNegative(entropyCutoff, "fedex.entropy_cutoff")
        }
    }

    public let settings: Settings
    /// One categorical per hyperparameter (or one over whole configurations).
    public private(set) var categoricals: [CategoricalLogWeights]
    /// The weighted mean validation loss of every round that updated the distribution.
    public private(set) var lossHistory: [Double]
    /// Whether the entropy fell below the cutoff.
    public private(set) var isFrozen: Bool

    /// Uniform categoricals of the given sizes.
    public init(sizes: [Int], settings: Settings) throws {
        try settings.validate()
        guard !sizes.isEmpty else {
            throw FederatedError.invalidValue(field: "fedex", message: "needs at least one hyperparameter to tune")
        }
        for size in sizes where size < 1 {
            throw FederatedError.invalidValue(field: "fedex", message: "every hyperparameter needs at least one value")
        }
        self.settings = settings
        categoricals = sizes.map { CategoricalLogWeights(uniformOver: $0) }
        lossHistory = []
        isFrozen = false
        if entropy < settings.entropyCutoff { isFrozen = true }
    }

    // MARK: Reading the distribution

    /// Choices per categorical.
    public var sizes: [Int] { categoricals.map(\.count) }

    /// Updates made so far (t of the last update).
    public var updateCount: Int { lossHistory.count }

    /// The base step size of each categorical: the setting, or `sqrt(2 log k)`.
    public var eta0: [Double] {
        categoricals.map { settings.eta0 ?? (2 * log(Double($0.count))).squareRoot() }
    }

    /// The entropy of the product distribution: the sum of the categoricals' entropies.
    public var entropy: Double { categoricals.reduce(0) { $0 + $1.entropy } }

    /// The most likely index of every categorical.
    public var mostLikely: [Int] { categoricals.map(\.mostLikely) }

    /// The probability of the most likely configuration.
    public var mostLikelyProbability: Double {
        categoricals.reduce(1) { $0 * exp($1.logWeights[$1.mostLikely]) }
    }

    /// The baseline the next update subtracts: the discounted mean of `lossHistory`.
    public var baseline: Double { Self.discountedMean(lossHistory, discount: settings.baselineDiscount) }

    /// `sum_s lambda^(T-1-s) x_s / sum_s lambda^(T-1-s)`, 0 for an empty history.
    public static func discountedMean(_ history: [Double], discount lambda: Double) -> Double {
        guard !history.isEmpty else { return 0 }
        var numerator = 0.0, denominator = 0.0, weight = 1.0
        for x in history.reversed() {
            numerator += weight * x
            denominator += weight
            weight *= lambda
        }
        return numerator / denominator
    }

    // MARK: Drawing

    /// One index per categorical, drawn independently from `stream` (one uniform draw
    /// per categorical); the most likely configuration once frozen.
    public func draw(_ stream: inout RandomStream) -> [Int] {
        if isFrozen { return mostLikely }
        return categoricals.map { $0.index(forUniform: stream.uniformDouble()) }
    }

    // MARK: Updating

    /// What one update did, for the run's records.
    public struct Step: Codable, Equatable, Sendable {
        /// The baseline subtracted from every loss.
        public var baseline: Double
        /// The round's weighted mean validation loss (appended to the history).
        public var meanLoss: Double
        /// The gradient of each categorical.
        public var gradients: [[Double]]
        /// The step size used for each categorical (0 where the step was skipped).
        public var stepSizes: [Double]
        /// The entropy after the step.
        public var entropy: Double
        /// Whether this step froze the distribution.
        public var froze: Bool
    }

    /// One exponentiated-gradient update from the round's client reports; `nil` when
    /// nothing was updated (frozen, or no report has a finite loss).
    ///
    /// A non-finite loss (a client whose training diverged) counts as the largest finite
    /// loss of the round: the worst outcome seen, which steers probability away from its
    /// configuration without letting an infinity erase the others.
    @discardableResult
    public mutating func update(_ reports: [FedExReport]) throws -> Step? {
        guard !isFrozen, !reports.isEmpty else { return nil }
        for report in reports {
            guard report.indices.count == categoricals.count,
                  zip(report.indices, categoricals).allSatisfy({ $0 >= 0 && $0 < $1.count }) else {
                throw FederatedError.unsatisfiable(
                    "FedEx report draws \(report.indices) do not fit categoricals of sizes \(sizes)")
            }
            guard report.weight.isFinite, report.weight >= 0 else {
                throw FederatedError.unsatisfiable("FedEx report weight \(report.weight) must be finite and not negative")
            }
        }
        let finite = reports.map(\.loss).filter(\.isFinite)
        guard let worst = finite.max() else { return nil }
        let totalWeight = reports.reduce(0) { $0 + $1.weight }
        guard totalWeight > 0 else {
            throw FederatedError.unsatisfiable("FedEx needs validation samples: every sampled client reported weight 0")
        }
        let losses = reports.map { $0.loss.isFinite ? $0.loss : worst }
        let weights = reports.map { $0.weight / totalWeight }
        let baseline = self.baseline
        let meanLoss = zip(losses, weights).reduce(0) { $0 + $1.0 * $1.1 }
        lossHistory.append(meanLoss)
        let t = lossHistory.count
        let etaBase = eta0

        var gradients: [[Double]] = []
        var stepSizes: [Double] = []
        for c in categoricals.indices {
            let theta = categoricals[c].probabilities
            var gradient = [Double](repeating: 0, count: theta.count)
            for (j, report) in reports.enumerated() {
                let i = report.indices[c]
                gradient[i] += weights[j] * (losses[j] - baseline) / theta[i]
            }
            let maxNorm = gradient.reduce(0) { max($0, abs($1)) }
            let eta = settings.schedule.stepSize(eta0: etaBase[c], update: t, maxNorm: maxNorm)
            if let eta { categoricals[c].step(gradient: gradient, stepSize: eta) }
            gradients.append(gradient)
            stepSizes.append(eta ?? 0)
        }
        let entropyAfter = entropy
        let froze = entropyAfter < settings.entropyCutoff
        if froze { isFrozen = true }
        return Step(baseline: baseline, meanLoss: meanLoss, gradients: gradients, stepSizes: stepSizes,
                    entropy: entropyAfter, froze: froze)
    }
}

/// One client's contribution to a FedEx update.
public struct FedExReport: Codable, Equatable, Sendable {
    /// The index the client drew from each categorical.
    public var indices: [Int]
    /// Its validation loss after local training.
    public var loss: Double
    /// Its validation set size.
    public var weight: Double

    public init(indices: [Int], loss: Double, weight: Double) {
        self.indices = indices
        self.loss = loss
        self.weight = weight
    }
}
