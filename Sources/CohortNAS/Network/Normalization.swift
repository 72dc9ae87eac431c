import CohortTensor

/// Which batch normalization a network uses.
///
/// A trained architecture uses the usual kind (`runningStatistics`: affine, running
/// mean and variance kept for evaluation). A supernet uses `batchStatistics`: each
/// forward pass normalizes with the statistics of the batch at hand, in evaluation
/// too, because running statistics shared by thousands of architectures describe none
/// of them (NAS-Bench-201's search cells keep no running statistics either). It also
/// means evaluating an architecture changes no state, so ranks scoring different
/// architectures stay identical.
public enum NormalizationStyle: Sendable, Equatable {
    case runningStatistics
    case batchStatistics

    /// A batch norm over `channels`; `affine` applies to `batchStatistics` only (the
    /// running-statistics kind is always affine).
    func make(_ channels: Int, affine: Bool = true) -> Module {
        switch self {
        case .runningStatistics: return BatchNorm(channels)
        case .batchStatistics: return BatchStatisticsNorm(channels, affine: affine)
        }
    }
}

/// Batch normalization that always uses the current batch's statistics and keeps no
/// state; optionally without a learned scale and shift (the supernet's candidate
/// operations, where a learned scale would blur the architecture weights).
///
/// It needs a training-mode tape (`Tape.batchNorm` picks batch statistics from the
/// tape's mode); evaluation of a supernet runs on a training tape without recording.
final class BatchStatisticsNorm: Module {
    let channels: Int
    let weight: Parameter?, bias: Parameter?
    private let unitScale: Tensor, zeroShift: Tensor
    /// `Tape.batchNorm` updates running statistics in place; they land here, unread.
    private let discardedMean: Tensor, discardedVariance: Tensor

    init(_ channels: Int, affine: Bool) {
        precondition(channels > 0, "batch norm needs a positive channel count")
        self.channels = channels
        weight = affine ? Parameter([channels], initializer: .ones) : nil
        bias = affine ? Parameter([channels], initializer: .zeros) : nil
        unitScale = Tensor([Float](repeating: 1, count: channels), shape: [channels])
        zeroShift = Tensor(zeros: [channels])
        discardedMean = Tensor(zeros: [channels])
        discardedVariance = Tensor(zeros: [channels])
    }

    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        precondition(tape.isTraining, "a supernet normalizes with batch statistics: run it on a training-mode tape (without recording to evaluate)")
        return tape.batchNorm(x, gamma: weight?.tensor ?? unitScale, beta: bias?.tensor ?? zeroShift,
                              runningMean: discardedMean, runningVar: discardedVariance)
    }

    var members: [ModuleMember] {
        guard let weight, let bias else { return [] }
        return [.parameter("weight", weight), .parameter("bias", bias)]
    }
}
