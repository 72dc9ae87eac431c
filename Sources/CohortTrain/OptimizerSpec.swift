import CohortFiles
import CohortTensor

/// The update rule and its learning-rate schedule, in epochs.
public struct OptimizerSpec: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable { case sgd, adam, adamw }
    public enum Schedule: String, Sendable, CaseIterable { case constant, step, cosine }

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

    /// Reads the `optimizer:` section (`type`, `learning_rate`, `momentum`, `nesterov`,
    /// `weight_decay`, `beta1`, `beta2`, `schedule`, `warmup_epochs`, `step_epochs`,
    /// `gamma`, `minimum_rate`); keys not given keep their value in `defaults`.
    public init(_ s: ConfigSection, defaults: OptimizerSpec = OptimizerSpec()) {
        self = defaults
        func float(_ key: String, _ value: Float, min: Double? = nil, above: Double? = nil, below: Double? = nil) -> Float {
            Float(s.double(key, default: Double(value), min: min, max: 1e6, above: above, below: below))
        }
        kind = s.choice("type", kind)
        schedule = s.choice("schedule", schedule)
        learningRate = float("learning_rate", learningRate, above: 0)
        momentum = float("momentum", momentum, min: 0, below: 1)
        nesterov = s.bool("nesterov", default: nesterov)
        weightDecay = float("weight_decay", weightDecay, min: 0)
        beta1 = float("beta1", beta1, min: 0, below: 1)
        beta2 = float("beta2", beta2, min: 0, below: 1)
        warmupEpochs = float("warmup_epochs", warmupEpochs, min: 0)
        stepEpochs = s.int("step_epochs", default: stepEpochs, min: 1, max: TrainingConfig.maximumEpochs)
        gamma = float("gamma", gamma, above: 0)
        minimumRate = float("minimum_rate", minimumRate, min: 0)
        s.finish()
    }

    /// Records every inconsistency (after flags changed the values read).
    func validate(_ issues: ConfigIssues) {
        func check(_ ok: Bool, _ key: String, _ message: String) { if !ok { issues.add("optimizer.\(key)", message) } }
        check(learningRate > 0 && learningRate.isFinite, "learning_rate", "must be positive, got \(learningRate)")
        check(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1), got \(momentum)")
        check(weightDecay >= 0 && weightDecay.isFinite, "weight_decay", "must be non-negative, got \(weightDecay)")
        check((0 ..< 1).contains(beta1), "beta1", "must be in [0, 1), got \(beta1)")
        check((0 ..< 1).contains(beta2), "beta2", "must be in [0, 1), got \(beta2)")
        check(!nesterov || momentum > 0, "nesterov", "needs momentum > 0")
        check(warmupEpochs >= 0 && warmupEpochs <= 1e6, "warmup_epochs", "must be between 0 and 1000000, got \(warmupEpochs)")
        check((1 ... TrainingConfig.maximumEpochs).contains(stepEpochs), "step_epochs", "must be between 1 and \(TrainingConfig.maximumEpochs), got \(stepEpochs)")
        check(gamma > 0 && gamma.isFinite, "gamma", "must be positive, got \(gamma)")
        check(minimumRate >= 0 && minimumRate.isFinite, "minimum_rate", "must be non-negative, got \(minimumRate)")
    }

    public func validate() throws {
        let issues = ConfigIssues()
        validate(issues)
        try issues.throwIfAny()
    }

    /// The section in the dialect it is read in.
    public var document: JSONValue {
        func n(_ x: Float) -> JSONValue { .number(Double("\(x)") ?? Double(x)) }
        return .object([("type", .string(kind.rawValue)), ("learning_rate", n(learningRate)), ("momentum", n(momentum)),
                        ("nesterov", .bool(nesterov)), ("weight_decay", n(weightDecay)), ("beta1", n(beta1)), ("beta2", n(beta2)),
                        ("schedule", .string(schedule.rawValue)), ("warmup_epochs", n(warmupEpochs)),
                        ("step_epochs", .number(Double(stepEpochs))), ("gamma", n(gamma)), ("minimum_rate", n(minimumRate))])
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
            throw ConfigError(at: "optimizer", e.description)
        }
    }
}
