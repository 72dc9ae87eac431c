/// Batch normalization over channels of [N, C], [N, C, L] or [N, C, H, W] input, with learned
/// scale ("weight") and shift ("bias") and running statistics kept as non-trainable
/// state for evaluation.
public final class BatchNorm: Module {
    public let channels: Int
    public let momentum: Float, epsilon: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVar: Parameter

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(channels > 0, "BatchNorm needs a positive channel count")
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Parameter([channels], initializer: .ones)
        bias = Parameter([channels], initializer: .zeros)
        runningMean = Parameter([channels], initializer: .zeros, trainable: false)
        runningVar = Parameter([channels], initializer: .ones, trainable: false)
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.batchNorm(x, gamma: weight.tensor, beta: bias.tensor, runningMean: runningMean.tensor,
                       runningVar: runningVar.tensor, momentum: momentum, epsilon: epsilon)
    }

    public var members: [ModuleMember] {
        [.parameter("weight", weight), .parameter("bias", bias),
         .parameter("running_mean", runningMean), .parameter("running_var", runningVar)]
    }
}
