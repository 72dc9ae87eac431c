/// How FedEx's exponentiated-gradient step size evolves over rounds (Khodak et al.,
/// "Federated Hyperparameter Tuning", NeurIPS 2021).
///
/// Each categorical has its own base step `eta0`, by default `sqrt(2 log k)` for k choices.
public enum FedExStepSchedule: String, Codable, Sendable, CaseIterable {
    /// `eta0` every round.
    case constant
    /// `eta0 / sqrt(t)` at the t-th update (t = 1, 2, ...).
    case inverseSqrt = "inverse_sqrt"
    /// `eta0 / ||gradient||_inf`: every step moves the largest log-weight by `eta0`.
    case aggressive

    /// The step size of the `t`-th update (from 1) for a gradient of max-norm `maxNorm`;
    /// `nil` when the step is undefined and must be skipped (an aggressive step on a zero
    /// gradient, which would not move the distribution anyway).
    public func stepSize(eta0: Double, update t: Int, maxNorm: Double) -> Double? {
        switch self {
        case .constant: return eta0
        case .inverseSqrt: return eta0 / Double(max(t, 1)).squareRoot()
        case .aggressive: return maxNorm > 0 && maxNorm.isFinite ? eta0 / maxNorm : nil
        }
    }
}
