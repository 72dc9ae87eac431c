/// An update rule over a model's flat parameter and gradient buffers.
///
/// Optimizers know nothing of layers: they see two equally long Float buffers and keep
/// their own state (momentum, moments) as equally long flat buffers, which checkpoints
/// save under `stateNames`.
public protocol Optimizer: AnyObject {
    /// Name stored in checkpoints ("sgd", "adam", "adamw"); loading checks it.
    var kind: String { get }
    var schedule: LearningRateSchedule { get set }
    /// Updates taken so far; the schedule is evaluated at this value.
    var stepCount: Int { get set }
    /// Applies one update: `parameters` change in place, `gradients` are only read.
    func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>)
    /// Named flat state buffers, each as long as the parameters.
    var state: [(name: String, buffer: FlatState)] { get }
}

extension Optimizer {
    /// The rate the next update will use.
    public var currentLearningRate: Float { schedule.rate(at: stepCount) }

    /// One update of `model` from its accumulated gradients.
    public func step(_ model: Model) {
        step(parameters: model.parameters.flat, gradients: UnsafeBufferPointer(model.gradients.flat))
    }
}

/// A zero-initialized flat Float buffer owned by an optimizer.
public final class FlatState {
    public let storage: TensorStorage
    public init(count: Int) { storage = TensorStorage(capacity: count) }
    public var count: Int { storage.capacity }
    public var flat: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: storage.base, count: count) }
}

/// Error for optimizers configured outside their valid ranges.
public struct OptimizerError: Error, CustomStringConvertible {
    public let description: String
}
