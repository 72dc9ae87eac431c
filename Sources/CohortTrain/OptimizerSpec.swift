import CohortTensor

/// The update rule and its learning-rate schedule, in epochs.
public struct OptimizerSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, step, cosine }

    public var kind = Kind.sgd
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var nesterov = false
    public var weightDecay: Float = 0
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var schedule = Schedule.constant
    /// Linear warmup length, in epochs (may be fractional).
    public var warmupEpochs: Float = 0
    /// `step`: multiply by `gamma` every `stepEpochs` epochs.
    public var stepEpochs = 1
    public var gamma: Float = 0.5
    /// `cosine`: the final rate.
    public var minimumRate: Float = 0

    public init() {}

    static let keys: Set<String> = ["kind", "learningRate", "momentum", "nesterov", "weightDecay", "beta1", "beta2",
                                    "schedule", "warmupEpochs", "stepEpochs", "gamma", "minimumRate"]

    init(_ r: ConfigReader) throws {
        try r.rejectUnknown(Self.keys)
        if let k = try r.string("kind") {
            guard let kind = Kind(rawValue: k) else {
                throw ConfigError("\(r.name("kind")) must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(k)'")
            }
            self.kind = kind
        }
        if let s = try r.string("schedule") {
            guard let schedule = Schedule(rawValue: s) else {
                throw ConfigError("\(r.name("schedule")) must be one of \(Schedule.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'")
            }
            self.schedule = schedule
        }
        learningRate = try r.float("learningRate") ?? learningRate
        momentum = try r.float("momentum") ?? momentum
        nesterov = try r.bool("nesterov") ?? nesterov
        weightDecay = try r.float("weightDecay") ?? weightDecay
        beta1 = try r.float("beta1") ?? beta1
        beta2 = try r.float("beta2") ?? beta2
        warmupEpochs = try r.float("warmupEpochs") ?? warmupEpochs
        stepEpochs = try r.int("stepEpochs") ?? stepEpochs
        gamma = try r.float("gamma") ?? gamma
        minimumRate = try r.float("minimumRate") ?? minimumRate
    }

    public func validate() throws {
        guard learningRate > 0 else { throw ConfigError("optimizer.learningRate must be positive, got \(learningRate)") }
        guard momentum >= 0 && momentum < 1 else { throw ConfigError("optimizer.momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw ConfigError("optimizer.weightDecay must be non-negative, got \(weightDecay)") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw ConfigError("optimizer.beta1 and beta2 must be in [0, 1), got \(beta1) and \(beta2)")
        }
        guard !nesterov || momentum > 0 else { throw ConfigError("optimizer.nesterov needs momentum > 0") }
        guard warmupEpochs >= 0, stepEpochs > 0, gamma > 0, minimumRate >= 0 else {
            throw ConfigError("optimizer: warmupEpochs >= 0, stepEpochs > 0, gamma > 0 and minimumRate >= 0 are required")
        }
    }

    /// The schedule in optimizer steps.
    public func learningRateSchedule(stepsPerEpoch: Int, epochs: Int) -> LearningRateSchedule {
        let warmup = Int((warmupEpochs * Float(stepsPerEpoch)).rounded())
        let inner: LearningRateSchedule
        switch schedule {
        case .constant: inner = .constant(learningRate)
        case .step: inner = .step(rate: learningRate, every: stepEpochs * stepsPerEpoch, gamma: gamma)
        case .cosine: inner = .cosine(rate: learningRate, totalSteps: max(1, stepsPerEpoch * epochs - warmup), minimum: minimumRate)
        }
        return warmup > 0 ? .warmup(steps: warmup, then: inner) : inner
    }

    /// The optimizer over `parameterCount` flat parameters. Errors name the key.
    public func make(parameterCount: Int, stepsPerEpoch: Int, epochs: Int) throws -> Optimizer {
        let schedule = learningRateSchedule(stepsPerEpoch: stepsPerEpoch, epochs: epochs)
        do {
            switch kind {
            case .sgd:
                return try SGD(parameterCount: parameterCount, learningRate: schedule, momentum: momentum,
                               nesterov: nesterov, weightDecay: weightDecay)
            case .adam, .adamw:
                return try Adam(parameterCount: parameterCount, learningRate: schedule, beta1: beta1, beta2: beta2,
                                weightDecay: weightDecay, decoupled: kind == .adamw)
            }
        } catch let e as OptimizerError {
            throw ConfigError("optimizer: \(e.description)")
        }
    }
}
