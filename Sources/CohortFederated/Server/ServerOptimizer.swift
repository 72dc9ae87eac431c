import Foundation

/// The server's update rule, applied to the pseudo-gradient `g = w_global - w_average`
/// (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2, where the
/// clients' mean change is `Delta = -g`).
public struct ServerOptimizerSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// `m = momentum m + g; w -= lr_t m`. With lr 1 and no momentum this is FedAvg:
        /// the new global model is the weighted average.
        case sgd
        /// FedAdagrad: `v += Delta^2`.
        case adagrad
        /// FedAdam: `v = beta2 v + (1 - beta2) Delta^2`.
        case adam
        /// FedYogi: `v -= (1 - beta2) Delta^2 sign(v - Delta^2)`.
        case yogi
    }

    public var kind: Kind
    /// The server step size at round 0.
    public var learningRate: Double
    /// SGD's momentum (heavy ball, PyTorch convention).
    public var momentum: Double
    /// Per-round multiplicative decay: round t uses `learningRate * decay^t`.
    public var decay: Double
    /// Adaptive methods: first-moment decay, second-moment decay, adaptivity tau.
    public var beta1: Double
    public var beta2: Double
    public var tau: Double

    public init(kind: Kind = .sgd, learningRate: Double = 1, momentum: Double = 0, decay: Double = 1,
                beta1: Double = 0.9, beta2: Double = 0.99, tau: Double = 1e-3) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.decay = decay
        self.beta1 = beta1
        self.beta2 = beta2
        self.tau = tau
    }

    /// FedAvg: the new global model is the clients' weighted average.
    public static let fedAvg = ServerOptimizerSettings()

    /// The step size of round `round` (from 0).
    public func learningRate(round: Int) -> Double { learningRate * pow(decay, Double(round)) }

    /// Whether a step is exactly "take the average" (SGD, lr 1, no momentum, no decay).
    public var isPlainAverage: Bool { kind == .sgd && learningRate == 1 && momentum == 0 && decay == 1 }

    public func validate(field: String = "server") throws {
        try FederatedError.requirePositive(learningRate, "\(field).lr")
        guard momentum.isFinite, momentum >= 0, momentum < 1 else {
            throw FederatedError.invalidValue(field: "\(field).momentum", message: "must be in [0, 1), got \(momentum)")
        }
        guard decay.isFinite, decay > 0, decay <= 1 else {
            throw FederatedError.invalidValue(field: "\(field).decay", message: "must be in (0, 1], got \(decay)")
        }
        for (value, name) in [(beta1, "beta1"), (beta2, "beta2")] where !(value.isFinite && value >= 0 && value < 1) {
            throw FederatedError.invalidValue(field: "\(field).\(name)", message: "must be in [0, 1), got \(value)")
        }
        try FederatedError.requirePositive(tau, "\(field).tau")
    }
}

/// A server optimizer's state over one flat parameter buffer.
///
/// Works in place on the global model's flat buffer and keeps its moments in flat
/// buffers of the same layout, so a step is a few passes over contiguous memory whatever
/// the model's layers. The state (`round`, moments) is what a checkpoint saves.
public struct ServerOptimizer: Equatable, Sendable {
    public let settings: ServerOptimizerSettings
    /// Steps taken; the next step uses `settings.learningRate(round: round)`.
    public private(set) var round: Int
    /// SGD's momentum buffer, or the adaptive methods' first moment `m`.
    public private(set) var firstMoment: [Float]
    /// The adaptive methods' second moment `v`, starting at `tau^2` as in the paper.
    public private(set) var secondMoment: [Float]

    public init(settings: ServerOptimizerSettings, parameterCount: Int) throws {
        try settings.validate()
        self.settings = settings
        round = 0
        let needsFirst = settings.kind != .sgd || settings.momentum > 0
        firstMoment = [Float](repeating: 0, count: needsFirst ? parameterCount : 0)
        let tau2 = Float(settings.tau * settings.tau)
        secondMoment = [Float](repeating: tau2, count: settings.kind == .sgd ? 0 : parameterCount)
    }

    /// Restores a saved state.
    public init(settings: ServerOptimizerSettings, round: Int, firstMoment: [Float], secondMoment: [Float]) throws {
        try settings.validate()
        self.settings = settings
        self.round = round
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }

    /// Moves `global` one step toward `average`, the clients' weighted average model.
    public mutating func step(global: UnsafeMutableBufferPointer<Float>, average: UnsafeBufferPointer<Float>) {
        precondition(global.count == average.count, "global model has \(global.count) values, average \(average.count)")
        let n = global.count
        let lr = Float(settings.learningRate(round: round))
        round += 1
        guard n > 0 else { return }
        let w = global.baseAddress!, avg = average.baseAddress!

        if settings.isPlainAverage {
            w.update(from: avg, count: n)
            return
        }
        switch settings.kind {
        case .sgd:
            let beta = Float(settings.momentum)
            if beta == 0 {
                for i in 0 ..< n { w[i] -= lr * (w[i] - avg[i]) }
                return
            }
            precondition(firstMoment.count == n, "momentum buffer holds \(firstMoment.count) values for \(n)")
            firstMoment.withUnsafeMutableBufferPointer { m in
                for i in 0 ..< n {
                    m[i] = beta * m[i] + (w[i] - avg[i])
                    w[i] -= lr * m[i]
                }
            }
        case .adagrad, .adam, .yogi:
            precondition(firstMoment.count == n && secondMoment.count == n,
                         "moment buffers hold \(firstMoment.count)/\(secondMoment.count) values for \(n)")
            let b1 = Float(settings.beta1), b2 = Float(settings.beta2), tau = Float(settings.tau)
            let kind = settings.kind
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    for i in 0 ..< n {
                        let delta = avg[i] - w[i]
                        let d2 = delta * delta
                        m[i] = b1 * m[i] + (1 - b1) * delta
                        switch kind {
                        case .adagrad: v[i] += d2
                        case .adam: v[i] = b2 * v[i] + (1 - b2) * d2
                        case .yogi:
                            let gap = v[i] - d2
                            v[i] -= (1 - b2) * d2 * (gap > 0 ? 1 : (gap < 0 ? -1 : 0))
                        case .sgd: break
                        }
                        w[i] += lr * m[i] / (v[i].squareRoot() + tau)
                    }
                }
            }
        }
    }

    /// Array convenience for `step(global:average:)`.
    public mutating func step(global: inout [Float], average: [Float]) {
        global.withUnsafeMutableBufferPointer { g in
            average.withUnsafeBufferPointer { a in step(global: g, average: a) }
        }
    }
}
