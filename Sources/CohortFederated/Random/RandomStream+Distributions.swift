import CohortTensor
import Foundation

/// The continuous and discrete distributions federated data and FedEx draw from, built on
/// the uniform and normal draws of `RandomStream` so that a seed names every value.
extension RandomStream {
    // MARK: Continuous

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    @inlinable
    public mutating func uniformPositive() -> Double { 1 - uniformDouble() }

    /// Log-normal: `exp(N(mu, sigma))`, as NumPy's `lognormal(mean, sigma)`.
    public mutating func logNormal(mu: Double, sigma: Double) -> Double {
        exp(normal(mean: mu, std: sigma))
    }

    /// The logarithm of a Gamma(`shape`, 1) draw.
    ///
    /// Marsaglia and Tsang's squeeze method (2000) for shape >= 1. For shape < 1 a draw
    /// is `Gamma(shape + 1) * U^(1/shape)`; kept in log space because for small shapes
    /// (a Dirichlet alpha of 0.01) `U^(1/shape)` underflows to zero in floating point,
    /// which would give an all-zero Dirichlet vector.
    public mutating func logGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma shape must be positive and finite, got \(shape)")
        if shape < 1 {
            return logGamma(shape: shape + 1) + log(uniformPositive()) / shape
        }
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9.0 * d).squareRoot()
        while true {
            let x = normal()
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = uniformPositive()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 || log(u) < 0.5 * x2 + d * (1 - v + log(v)) {
                return log(d) + log(v)
            }
        }
    }

    /// A Gamma(`shape`, `scale`) draw.
    public mutating func gamma(shape: Double, scale: Double = 1) -> Double {
        scale * exp(logGamma(shape: shape))
    }

    /// A draw from Dirichlet(`concentrations`): normalised Gamma draws, normalised in log
    /// space so that tiny concentrations still give a vector that sums to one.
    public mutating func dirichlet(_ concentrations: [Double]) -> [Double] {
        precondition(!concentrations.isEmpty, "a Dirichlet distribution needs at least one component")
        let logs = concentrations.map { logGamma(shape: $0) }
        let top = logs.max()!
        let scaled = logs.map { exp($0 - top) }
        let total = scaled.reduce(0, +)
        return scaled.map { $0 / total }
    }

    /// A draw from the symmetric Dirichlet(`alpha`, ..., `alpha`) over `count` components.
    public mutating func dirichlet(alpha: Double, count: Int) -> [Double] {
        dirichlet([Double](repeating: alpha, count: count))
    }

    // MARK: Discrete

    /// An index drawn with the given probabilities (which must sum to about one), by
    /// inverting the cumulative sum with one uniform draw. Rounding that leaves the
    /// uniform draw past the last cumulative value falls to the last index with positive
    /// probability, never to an index of probability zero.
    public mutating func categorical(_ probabilities: [Double]) -> Int {
        Self.categoricalIndex(probabilities, uniform: uniformDouble())
    }

    /// The index `categorical(_:)` picks for the uniform draw `u` in [0, 1).
    public static func categoricalIndex(_ probabilities: [Double], uniform u: Double) -> Int {
        precondition(!probabilities.isEmpty, "a categorical distribution needs at least one outcome")
        return RandomStreamCategorical.index(probabilities, u)
    }

    /// `count` distinct indices from `0 ..< population`, uniformly without replacement, in
    /// the order drawn (a partial Fisher-Yates shuffle).
    public mutating func sampleWithoutReplacement(_ count: Int, from population: Int) -> [Int] {
        precondition(count >= 0 && count <= population, "cannot draw \(count) of \(population) without replacement")
        var pool = Array(0 ..< population)
        for i in 0 ..< count {
            pool.swapAt(i, i + index(below: population - i))
        }
        return Array(pool.prefix(count))
    }
}
