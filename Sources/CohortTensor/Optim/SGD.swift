/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2
/// weight decay, following the common formulation:
///   g ← grad + wd·p;  v ← μ·v + g;  step ← nesterov ? g + μ·v : v;  p ← p - lr·step.
/// (v starts at zero, so the first update is plain SGD on g.)
public final class SGD: Optimizer {
    public let kind = "sgd"
    public var schedule: LearningRateSchedule
    public let momentum: Float, nesterov: Bool, weightDecay: Float
    public var stepCount = 0
    let velocity: FlatState?

    public init(parameterCount: Int, learningRate: LearningRateSchedule, momentum: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0) throws {
        guard momentum >= 0 && momentum < 1 else { throw OptimizerError(description: "SGD momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw OptimizerError(description: "SGD weight decay must be non-negative, got \(weightDecay)") }
        guard !nesterov || momentum > 0 else { throw OptimizerError(description: "Nesterov momentum needs momentum > 0") }
        schedule = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = momentum > 0 ? FlatState(count: parameterCount) : nil
    }

    public convenience init(for model: Model, learningRate: Float, momentum: Float = 0,
                            nesterov: Bool = false, weightDecay: Float = 0) throws {
        try self.init(parameterCount: model.parameterCount, learningRate: .constant(learningRate),
                      momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
    }

    public var state: [(name: String, buffer: FlatState)] { velocity.map { [("momentum", $0)] } ?? [] }

    public func step(parameters p: UnsafeMutableBufferPointer<Float>, gradients g: UnsafeBufferPointer<Float>) {
        precondition(p.count == g.count, "SGD: \(p.count) parameters but \(g.count) gradients")
        let lr = schedule.rate(at: stepCount), wd = weightDecay, mu = momentum
        let pp = p.baseAddress!, gp = g.baseAddress!
        if let velocity {
            precondition(velocity.count == p.count, "SGD state was built for \(velocity.count) parameters, got \(p.count)")
            let v = velocity.storage.base
            if nesterov {
                for i in 0..<p.count {
                    let gi = gp[i] + wd * pp[i]
                    let vi = mu * v[i] + gi
                    v[i] = vi
                    pp[i] -= lr * (gi + mu * vi)
                }
            } else {
                for i in 0..<p.count {
                    let vi = mu * v[i] + gp[i] + wd * pp[i]
                    v[i] = vi
                    pp[i] -= lr * vi
                }
            }
        } else {
            for i in 0..<p.count { pp[i] -= lr * (gp[i] + wd * pp[i]) }
        }
        stepCount += 1
    }
}
