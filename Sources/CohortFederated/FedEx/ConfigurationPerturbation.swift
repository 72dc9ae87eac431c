import CohortTensor
import CohortTune
import Foundation

/// FedEx's reference draw of an arm's k configurations: one configuration drawn from
/// the ranges, then k-1 perturbations of it. Each hyperparameter moves by a uniform
/// amount in [-eps w, eps w], where w is its range's width in the range's own scale
/// (the logarithm for log-uniform ranges), and is clipped to the range; this is how
/// the reference's Shakespeare code moves each of its hyperparameters (learning rate
/// by 4 eps decades over a 4-decade range, momentum by eps over [0, 1], and so on).
/// A choice moves to a neighbouring value (or stays), each with probability 1/3, when
/// eps > 0 (the reference moves its batch size so even at eps = 0). With eps = 0 the
/// k configurations are identical: FedEx then reduces to FedAvg with the first draw.
public enum ConfigurationPerturbation {
    /// `first` moved within `eps` of each range of `space`, drawing from `rng`.
    public static func perturb(_ first: [String: Double], space: SearchSpace, eps: Double,
                               rng: inout RandomStream) -> [String: Double] {
        var out = first
        for p in space.parameters {
            guard let v = first[p.name] else { continue }
            out[p.name] = perturb(v, domain: p.domain, eps: eps, rng: &rng)
        }
        return out
    }

    static func perturb(_ v: Double, domain: ParameterDomain, eps: Double, rng: inout RandomStream) -> Double {
        switch domain {
        case let .uniform(low, high):
            let w = high - low
            return clamp(v + rng.uniform(-eps * w, eps * w), low, high)
        case let .logUniform(low, high):
            let w = log(high) - log(low)
            return clamp(exp(log(v) + rng.uniform(-eps * w, eps * w)), low, high)
        case let .integer(low, high, isLog):
            if isLog {
                let w = log(Double(high)) - log(Double(low))
                return clamp(exp(log(v) + rng.uniform(-eps * w, eps * w)).rounded(), Double(low), Double(high))
            }
            let w = Double(high - low)
            return clamp((v + rng.uniform(-eps * w, eps * w)).rounded(), Double(low), Double(high))
        case let .choice(values), let .grid(values):
            let numbers = values.compactMap(\.doubleValue)
            guard eps > 0, let i = numbers.firstIndex(of: v) else { return v }
            let j = Swift.min(numbers.count - 1, Swift.max(0, i + rng.index(below: 3) - 1))
            return numbers[j]
        case .constant, .gridded:
            return v
        }
    }

    private static func clamp(_ x: Double, _ low: Double, _ high: Double) -> Double { Swift.min(high, Swift.max(low, x)) }
}
