import Foundation

/// Learning rate as a function of the optimizer step (0 for the first update).
public indirect enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// `rate · gamma^(step / every)`.
    case step(rate: Float, every: Int, gamma: Float)
    /// Half-cosine from `rate` down to `minimum` over `totalSteps`, then `minimum`.
    case cosine(rate: Float, totalSteps: Int, minimum: Float)
    /// Linear ramp over `steps` up to the inner schedule's first rate, then the inner
    /// schedule (counting from the end of the warmup).
    case warmup(steps: Int, then: LearningRateSchedule)

    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let r): return r
        case .step(let r, let every, let gamma):
            return r * Foundation.pow(gamma, Float(step / Swift.max(every, 1)))
        case .cosine(let r, let total, let minimum):
            guard step < total else { return minimum }
            let progress = Double(step) / Double(Swift.max(total, 1))
            return minimum + (r - minimum) * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
        case .warmup(let steps, let inner):
            if step < steps { return inner.rate(at: 0) * Float(step + 1) / Float(steps) }
            return inner.rate(at: step - steps)
        }
    }
}
