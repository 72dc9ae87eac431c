import Foundation

/// Adam and AdamW. With bias-corrected moments at update t = stepCount + 1:
///   Adam:  g ← grad + wd·p (L2 in the gradient)
///   AdamW: p ← p·(1 - lr·wd) (decoupled decay), g ← grad
///   m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²
///   p ← p - lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε)
public final class Adam: Optimizer {
    public let kind: String
    public var schedule: LearningRateSchedule
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let decoupled: Bool
    public var stepCount = 0
    let m: FlatState, v: FlatState

    public init(parameterCount: Int, learningRate: LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw OptimizerError(description: "Adam betas must be in [0, 1), got \(beta1), \(beta2)")
        }
        guard epsilon > 0, weightDecay >= 0 else { throw OptimizerError(description: "Adam needs epsilon > 0 and weight decay >= 0") }
        kind = decoupled ? "adamw" : "adam"
        schedule = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = FlatState(count: parameterCount)
        v = FlatState(count: parameterCount)
    }

    /// AdamW: Adam with decoupled weight decay (default decay 0.01).
    public static func adamW(parameterCount: Int, learningRate: LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01) throws -> Adam {
        try Adam(parameterCount: parameterCount, learningRate: learningRate, beta1: beta1, beta2: beta2,
                 epsilon: epsilon, weightDecay: weightDecay, decoupled: true)
    }

    public var state: [(name: String, buffer: FlatState)] { [("m", m), ("v", v)] }

    public func step(parameters p: UnsafeMutableBufferPointer<Float>, gradients g: UnsafeBufferPointer<Float>) {
        precondition(p.count == g.count && p.count == m.count, "Adam: \(p.count) parameters, \(g.count) gradients, state for \(m.count)")
        let lr = schedule.rate(at: stepCount)
        let t = Double(stepCount + 1)
        let c1 = Float(1 - Foundation.pow(Double(beta1), t))
        let c2 = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        let stepSize = lr / c1
        let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
        let pp = p.baseAddress!, gp = g.baseAddress!, mp = m.storage.base, vp = v.storage.base
        let l2: Float = decoupled ? 0 : wd
        let shrink: Float = decoupled ? 1 - lr * wd : 1
        for i in 0..<p.count {
            let gi = gp[i] + l2 * pp[i]
            let mi = b1 * mp[i] + (1 - b1) * gi
            let vi = b2 * vp[i] + (1 - b2) * gi * gi
            mp[i] = mi
            vp[i] = vi
            pp[i] = pp[i] * shrink - stepSize * mi / (vi.squareRoot() / c2 + eps)
        }
        stepCount += 1
    }
}
