import CohortCluster
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
    /// Set for data-parallel training with synchronised statistics.
    var sync: BatchStatisticsSync?

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
                              runningMean: discardedMean, runningVar: discardedVariance, synchronise: sync?.sum)
    }

    var members: [ModuleMember] {
        guard let weight, let bias else { return [] }
        return [.parameter("weight", weight), .parameter("bias", bias)]
    }
}

/// Synchronised batch statistics for data-parallel supernet training: while `active`,
/// every `BatchStatisticsNorm` of the network sums its per-channel statistics over the
/// ranks (one allreduce for the sums, one for the squared deviations, one in the
/// backward pass), so a batch is normalized as one batch however many ranks share it.
/// Scoring runs whole batches on single ranks and leaves it inactive.
final class BatchStatisticsSync {
    let communicator: Communicator
    var active = false
    /// The first failed allreduce; the tape cannot throw, so the trainer rethrows it.
    private(set) var failure: Error?

    init(communicator: Communicator) { self.communicator = communicator }

    /// Installs itself in every batch-statistics norm under `module`.
    func install(in module: Module) {
        if let norm = module as? BatchStatisticsNorm { norm.sync = self }
        for case let .child(_, child) in module.members { install(in: child) }
    }

    /// The `ChannelStatisticsSum` of the norms: the sum over ranks while active.
    var sum: ChannelStatisticsSum? {
        guard active, communicator.size > 1 else { return nil }
        return { [self] values in
            guard failure == nil else { return }
            do { try communicator.allreduce(&values, op: .sum) } catch { failure = error }
        }
    }

    /// Throws the allreduce failure of the last step, if any.
    func rethrow() throws {
        if let failure {
            self.failure = nil
            throw failure
        }
    }
}
