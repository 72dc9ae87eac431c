import Foundation

/// How a parameter's first values are drawn. Kaiming (He) suits ReLU networks
/// (variance 2/fanIn); Xavier (Glorot) suits tanh/sigmoid (variance 2/(fanIn+fanOut)).
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(std: Float)
    case kaimingUniform(fanIn: Int)
    case kaimingNormal(fanIn: Int)
    case xavierUniform(fanIn: Int, fanOut: Int)
    case xavierNormal(fanIn: Int, fanOut: Int)
    /// Given values, in order (a structured start such as a transform's factors).
    case values([Float])

    /// Fills `values` drawing only from `rng`.
    public func fill(_ values: UnsafeMutableBufferPointer<Float>, rng: inout RandomStream) {
        switch self {
        case .zeros: values.update(repeating: 0)
        case .ones: values.update(repeating: 1)
        case .constant(let c): values.update(repeating: c)
        case .uniform(let lo, let hi): Initializer.uniform(values, lo, hi, &rng)
        case .normal(let std): Initializer.normal(values, Double(std), &rng)
        case .kaimingUniform(let fanIn):
            let bound = Float((6.0 / Double(max(fanIn, 1))).squareRoot())
            Initializer.uniform(values, -bound, bound, &rng)
        case .kaimingNormal(let fanIn):
            Initializer.normal(values, (2.0 / Double(max(fanIn, 1))).squareRoot(), &rng)
        case .xavierUniform(let fanIn, let fanOut):
            let bound = Float((6.0 / Double(max(fanIn + fanOut, 1))).squareRoot())
            Initializer.uniform(values, -bound, bound, &rng)
        case .xavierNormal(let fanIn, let fanOut):
            Initializer.normal(values, (2.0 / Double(max(fanIn + fanOut, 1))).squareRoot(), &rng)
        case .values(let given):
            precondition(given.count == values.count, "\(given.count) initial values for \(values.count) parameters")
            for i in values.indices { values[i] = given[i] }
        }
    }

    private static func uniform(_ v: UnsafeMutableBufferPointer<Float>, _ lo: Float, _ hi: Float, _ rng: inout RandomStream) {
        for i in v.indices { v[i] = lo + (hi - lo) * rng.uniform() }
    }

    private static func normal(_ v: UnsafeMutableBufferPointer<Float>, _ std: Double, _ rng: inout RandomStream) {
        for i in v.indices { v[i] = Float(rng.normal() * std) }
    }
}

/// Weight initialization schemes a layer can be asked for.
public enum WeightInit: String, Sendable, CaseIterable {
    case kaimingUniform, kaimingNormal, xavierUniform, xavierNormal

    public func initializer(fanIn: Int, fanOut: Int) -> Initializer {
        switch self {
        case .kaimingUniform: return .kaimingUniform(fanIn: fanIn)
        case .kaimingNormal: return .kaimingNormal(fanIn: fanIn)
        case .xavierUniform: return .xavierUniform(fanIn: fanIn, fanOut: fanOut)
        case .xavierNormal: return .xavierNormal(fanIn: fanIn, fanOut: fanOut)
        }
    }
}
