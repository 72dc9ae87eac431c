import CohortTensor
import Foundation

/// The continuous architecture a mixture-mode search learns: for each of the six
/// edges, one weight per operation, summing to 1 (GAEA keeps them on the simplex
/// directly, DARTS as the softmax of logits). Every rank holds an identical copy: the
/// gradient that updates it is allreduced first, and the update is deterministic.
public protocol ArchitectureWeights: AnyObject {
    /// The strategy's name ("gaea", "darts").
    var name: String { get }
    /// Edge e's weight of operation k at e * 5 + k; each edge sums to 1.
    var weights: [Double] { get }
    /// The learned values (GAEA: the weights; DARTS: the logits).
    var learnedValues: [Double] { get }
    /// The weights as a tensor on `tape`, and, when `trainable`, the leaf whose gradient
    /// `update(gradient:)` takes.
    func mixture(on tape: Tape, trainable: Bool) -> (weights: Tensor, variable: Tensor?)
    /// One update from the gradient of the loss with respect to the learned values
    /// (already summed over ranks).
    func update(gradient: [Float])
}

extension ArchitectureWeights {
    static var operationCount: Int { CellOperation.allCases.count }
    static var valueCount: Int { CellArchitecture.edgeCount * CellOperation.allCases.count }

    /// Edge `edge`'s weights, operation by operation.
    public func weights(edge: Int) -> [Double] {
        let k = CellOperation.allCases.count
        return Array(weights[(edge * k)..<((edge + 1) * k)])
    }

    /// The cell of the strongest operation on each edge (ties to the earlier operation).
    /// When that cell does not connect input to output, `none` is left out of the
    /// choice, as DARTS always does.
    public func derive() -> (architecture: CellArchitecture, excludedNone: Bool) {
        func pick(excludingNone: Bool) -> CellArchitecture {
            CellArchitecture((0..<CellArchitecture.edgeCount).map { e in
                let w = weights(edge: e)
                var best = excludingNone ? 1 : 0
                for k in best..<w.count where w[k] > w[best] { best = k }
                return CellOperation(index: best)
            })
        }
        let plain = pick(excludingNone: false)
        return plain.isConnected ? (plain, false) : (pick(excludingNone: true), true)
    }

    /// The weights as six rows (edges in string order) of five (operations in
    /// `CellOperation.allCases` order), for records.
    public var weightsJSONRows: [[Double]] { (0..<CellArchitecture.edgeCount).map { weights(edge: $0) } }
}

// MARK: - GAEA

/// GAEA's architecture weights (Li, Khodak, Balcan, Talwalkar, ICLR 2021): each edge's
/// weights live on the probability simplex, start uniform, and move by exponentiated
/// gradient, a mirror-descent step whose geometry suits the simplex:
///
///     w <- w * exp(-eta * grad);  w <- max(w, clamp);  w <- w / sum(w)   (per edge)
///
/// The mixture multiplies each operation by its weight directly (no softmax).
///
/// Two options of the authors' code: an entropy regulariser, `entropyWeight` times the
/// KL divergence of each edge from uniform, sum_k w_k log(K w_k), whose gradient
/// entropyWeight (log(K w_k) + 1) is added to the loss gradient (it pulls the weights
/// back toward uniform); and `adaptStep`, which divides eta by the largest absolute
/// gradient of the step, so a step's largest move is exp(-+eta) whatever the
/// gradient's scale.
public final class SimplexArchitectureWeights: ArchitectureWeights {
    public let name = "gaea"
    public private(set) var weights: [Double]
    public let eta: Double
    public let clamp: Double
    public let entropyWeight: Double
    public let adaptStep: Bool

    public init(eta: Double, clamp: Double, entropyWeight: Double = 0, adaptStep: Bool = false) {
        self.eta = eta
        self.clamp = clamp
        self.entropyWeight = entropyWeight
        self.adaptStep = adaptStep
        weights = Array(repeating: 1 / Double(Self.operationCount), count: Self.valueCount)
    }

    /// Restores saved weights (a checkpoint, a test).
    public init(weights: [Double], eta: Double, clamp: Double, entropyWeight: Double = 0, adaptStep: Bool = false) {
        precondition(weights.count == Self.valueCount, "GAEA holds \(Self.valueCount) weights")
        self.weights = weights
        self.eta = eta
        self.clamp = clamp
        self.entropyWeight = entropyWeight
        self.adaptStep = adaptStep
    }

    public var learnedValues: [Double] { weights }

    public func mixture(on tape: Tape, trainable: Bool) -> (weights: Tensor, variable: Tensor?) {
        let values = weights.map(Float.init)
        let shape: Shape = [CellArchitecture.edgeCount, Self.operationCount]
        if trainable {
            let v = tape.variable(values, shape: shape)
            return (v, v)
        }
        return (tape.tensor(values, shape: shape), nil)
    }

    public func update(gradient: [Float]) {
        var g = gradient.map(Double.init)
        if entropyWeight != 0 {
            let k = Double(Self.operationCount)
            for i in g.indices { g[i] += entropyWeight * (Foundation.log(k * weights[i]) + 1) }
        }
        var step = eta
        if adaptStep {
            let largest = g.reduce(0) { Swift.max($0, abs($1)) }
            guard largest > 0 else { return }   // nothing to move by
            step = eta / largest
        }
        Self.exponentiatedGradientStep(&weights, gradient: g, eta: step, clamp: clamp, operations: Self.operationCount)
    }

    /// One exponentiated-gradient step on consecutive simplices of `operations` values.
    public static func exponentiatedGradientStep(_ weights: inout [Double], gradient: [Double], eta: Double, clamp: Double,
                                                 operations: Int) {
        precondition(weights.count == gradient.count && weights.count % operations == 0,
                     "\(weights.count) weights, \(gradient.count) gradients, \(operations) per simplex")
        for start in stride(from: 0, to: weights.count, by: operations) {
            var sum = 0.0
            for i in start..<(start + operations) {
                let moved = Swift.max(weights[i] * Foundation.exp(-eta * gradient[i]), clamp)
                weights[i] = moved
                sum += moved
            }
            for i in start..<(start + operations) { weights[i] /= sum }
        }
    }
}

// MARK: - DARTS

/// DARTS' architecture parameters (Liu, Simonyan, Yang, ICLR 2019), first order:
/// logits drawn as 1e-3 x N(0, 1), weights = softmax of each edge's logits, updated by
/// Adam with betas (0.5, 0.999) and weight decay 1e-3.
public final class SoftmaxArchitectureWeights: ArchitectureWeights {
    public let name = "darts"
    private let logits: TensorStorage
    private let optimizer: Adam

    public init(seed: UInt64, settings: NASConfig.DARTS) throws {
        logits = TensorStorage(capacity: Self.valueCount)
        var rng = RandomStream(seed: seed, stream: [StreamPurpose.dartsInitialization])
        for i in 0..<Self.valueCount { logits.base[i] = Float(settings.initialScale * rng.normal()) }
        optimizer = try Adam(parameterCount: Self.valueCount, learningRate: .constant(settings.learningRate),
                             beta1: settings.beta1, beta2: settings.beta2, weightDecay: settings.weightDecay)
    }

    public var learnedValues: [Double] { (0..<Self.valueCount).map { Double(logits.base[$0]) } }

    public var weights: [Double] {
        let x = learnedValues, k = Self.operationCount
        var out = [Double](repeating: 0, count: x.count)
        for start in stride(from: 0, to: x.count, by: k) {
            let m = x[start..<(start + k)].max()!
            let e = (start..<(start + k)).map { Foundation.exp(x[$0] - m) }
            let s = e.reduce(0, +)
            for (i, v) in e.enumerated() { out[start + i] = v / s }
        }
        return out
    }

    public func mixture(on tape: Tape, trainable: Bool) -> (weights: Tensor, variable: Tensor?) {
        let values = UnsafeBufferPointer(start: logits.base, count: Self.valueCount)
        let shape: Shape = [CellArchitecture.edgeCount, Self.operationCount]
        let v = trainable ? tape.variable(Array(values), shape: shape) : tape.tensor(values, shape: shape)
        return (tape.softmax(v), trainable ? v : nil)
    }

    public func update(gradient: [Float]) {
        gradient.withUnsafeBufferPointer { g in
            optimizer.step(parameters: UnsafeMutableBufferPointer(start: logits.base, count: Self.valueCount), gradients: g)
        }
    }
}
