import Foundation

/// One categorical distribution over `k` choices, kept as log-weights.
///
/// FedEx updates a distribution multiplicatively (exponentiated gradient); in log space
/// that is a subtraction followed by renormalisation with log-sum-exp, which stays exact
/// where products of small probabilities would underflow.
public struct CategoricalLogWeights: Codable, Equatable, Sendable {
    /// `log theta`, normalised so that `exp` sums to one.
    public private(set) var logWeights: [Double]

    /// The uniform distribution over `count` choices: every log-weight `-log k`.
    public init(uniformOver count: Int) {
        precondition(count > 0, "a categorical distribution needs at least one choice")
        logWeights = [Double](repeating: -log(Double(count)), count: count)
    }

    /// A distribution from log-weights, renormalised.
    public init(logWeights: [Double]) {
        precondition(!logWeights.isEmpty, "a categorical distribution needs at least one choice")
        self.logWeights = logWeights
        normalise()
    }

    /// The number of choices k.
    public var count: Int { logWeights.count }

    /// The probabilities theta.
    public var probabilities: [Double] { logWeights.map { exp($0) } }

    /// Shannon entropy in nats; `log k` when uniform, 0 when certain.
    public var entropy: Double {
        var h = 0.0
        for z in logWeights where z > -.infinity {
            h -= exp(z) * z
        }
        return h
    }

    /// The most likely choice (the lowest index among ties).
    public var mostLikely: Int {
        var best = 0
        for i in 1 ..< count where logWeights[i] > logWeights[best] { best = i }
        return best
    }

    /// The choice a uniform draw `u` in [0, 1) selects.
    public func index(forUniform u: Double) -> Int {
        RandomStreamCategorical.index(probabilities, u)
    }

    /// One exponentiated-gradient step: `z -= eta * gradient`, then `z -= logsumexp(z)`.
    public mutating func step(gradient: [Double], stepSize eta: Double) {
        precondition(gradient.count == count, "gradient has \(gradient.count) entries for \(count) choices")
        for i in logWeights.indices { logWeights[i] -= eta * gradient[i] }
        normalise()
    }

    /// `log sum exp(z)`, shifted by the maximum so that it neither overflows nor underflows.
    public static func logSumExp(_ z: [Double]) -> Double {
        let top = z.max() ?? -.infinity
        guard top.isFinite else { return top }
        return top + log(z.reduce(0) { $0 + exp($1 - top) })
    }

    private mutating func normalise() {
        let total = Self.logSumExp(logWeights)
        for i in logWeights.indices { logWeights[i] -= total }
    }
}

/// Inverse-CDF sampling shared with `RandomStream.categorical`.
enum RandomStreamCategorical {
    static func index(_ probabilities: [Double], _ u: Double) -> Int {
        var cumulative = 0.0
        var lastPositive = 0
        for (i, p) in probabilities.enumerated() where p > 0 {
            cumulative += p
            lastPositive = i
            if u < cumulative { return i }
        }
        return lastPositive
    }
}
