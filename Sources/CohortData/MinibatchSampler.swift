import CohortTensor

/// The order in which an epoch visits a dataset, cut into minibatches.
///
/// The order of epoch `e` is a permutation of `0 ..< sampleCount` drawn from the random
/// stream named by `(seed, stream path, e)` and nothing else, so every rank, and every rerun,
/// that uses the same seed sees the same batches in the same order. Different epochs give
/// different orders. Without shuffling the order is `0, 1, 2, ...` (for evaluation).
///
/// The sampler owns its order buffer: after `init`, `startEpoch(_:)` and the batch
/// accessors allocate nothing, so a training loop can call them every step.
///
/// ```swift
/// var sampler = try MinibatchSampler(sampleCount: train.count, batchSize: 128, seed: seed)
/// for epoch in 0 ..< epochs {
///     sampler.startEpoch(epoch)
///     for batch in 0 ..< sampler.batchCount {
///         let indices = sampler.shardIndices(batch: batch, rank: rank, rankCount: ranks)
///         let n = train.fillBatch(indices, features: inputBuffer, labels: labelBuffer)
///         // ... forward/backward on the first n samples ...
///     }
/// }
/// ```
public struct MinibatchSampler: Sendable {
    /// The number of samples an epoch visits.
    public let sampleCount: Int
    /// Samples per full batch.
    public let batchSize: Int
    /// Whether a last batch shorter than `batchSize` is skipped.
    public let dropLast: Bool
    /// Whether epochs visit samples in a seeded random order (otherwise in index order).
    public let shuffles: Bool
    /// The epoch whose order `order` currently holds.
    public private(set) var epoch: Int
    /// The current epoch's visiting order; batch `b` is `order[batchBounds(b)]`.
    public private(set) var order: [Int]

    /// The stream every epoch's stream derives from; fixed by seed and stream path.
    private let baseStream: RandomStream

    /// Tags the data-order stream apart from other streams named by the same seed.
    private static let purpose: UInt64 = 0x4D69_6E69_6261_7463 // "Minibatc"

    /// Creates a sampler positioned at epoch 0.
    ///
    /// - Parameters:
    ///   - seed: the experiment seed that names the data order.
    ///   - stream: further identities (a trial id, a client id) so that different
    ///     consumers of one seed get independent orders; empty by default.
    ///   - shuffle: `false` visits samples in index order (evaluation).
    ///   - dropLast: skip the last batch when it would be shorter than `batchSize`.
    public init(sampleCount: Int, batchSize: Int, seed: UInt64, stream: [UInt64] = [],
                shuffle: Bool = true, dropLast: Bool = false) throws {
        guard sampleCount > 0 else {
            throw DatasetError.invalidArgument("minibatches need at least one sample, got \(sampleCount)")
        }
        guard batchSize > 0 else {
            throw DatasetError.invalidArgument("batch size must be positive, got \(batchSize)")
        }
        if dropLast && sampleCount < batchSize {
            throw DatasetError.invalidArgument(
                "dropping the last partial batch of size \(batchSize) leaves no batch from \(sampleCount) samples")
        }
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.shuffles = shuffle
        self.baseStream = RandomStream(seed: seed, stream: [Self.purpose] + stream)
        self.epoch = 0
        self.order = Array(0 ..< sampleCount)
        startEpoch(0)
    }

    // MARK: Epochs

    /// Rewrites `order` in place for `epoch`; allocates nothing as long as no batch slice
    /// of the previous epoch is still held (a held slice shares the buffer, and Swift
    /// would copy it before rewriting).
    public mutating func startEpoch(_ epoch: Int) {
        precondition(epoch >= 0, "epoch must be non-negative, got \(epoch)")
        self.epoch = epoch
        var stream = baseStream.derived(UInt64(epoch))
        let shuffles = self.shuffles
        order.withUnsafeMutableBufferPointer { slots in
            for i in slots.indices { slots[i] = i }
            guard shuffles, slots.count > 1 else { return }
            // Fisher-Yates from the back, the same walk as `RandomStream.shuffle`.
            for i in stride(from: slots.count - 1, to: 0, by: -1) {
                slots.swapAt(i, stream.index(below: i + 1))
            }
        }
    }

    /// The visiting order of `epoch` as a new array, without moving this sampler.
    public func epochOrder(_ epoch: Int) -> [Int] {
        var copy = self
        copy.order = Array(0 ..< sampleCount)
        copy.startEpoch(epoch)
        return copy.order
    }

    // MARK: Batches

    /// Batches per epoch: `ceil(sampleCount / batchSize)`, or the floor with `dropLast`.
    public var batchCount: Int {
        dropLast ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize
    }

    /// Positions in `order` that batch `batch` covers.
    public func batchBounds(_ batch: Int) -> Range<Int> {
        precondition(batch >= 0 && batch < batchCount, "batch \(batch) outside 0..<\(batchCount)")
        let start = batch * batchSize
        return start ..< min(start + batchSize, sampleCount)
    }

    /// The dataset indices of batch `batch` of the current epoch.
    public func batchIndices(_ batch: Int) -> ArraySlice<Int> {
        order[batchBounds(batch)]
    }

    /// The dataset indices that rank `rank` of `rankCount` trains on in batch `batch`: a
    /// contiguous shard of the batch, laid out by `DataParallelShard.bounds`.
    public func shardIndices(batch: Int, rank: Int, rankCount: Int) -> ArraySlice<Int> {
        let whole = batchBounds(batch)
        let part = DataParallelShard.bounds(count: whole.count, rank: rank, rankCount: rankCount)
        return order[(whole.lowerBound + part.lowerBound) ..< (whole.lowerBound + part.upperBound)]
    }
}

/// How one batch is divided among the ranks of a data-parallel group.
///
/// Rank `r` of `R` takes a contiguous shard; shards are laid out in rank order and
/// together cover the batch exactly once. With `n` samples, the first `n % R` ranks take
/// `n / R + 1` samples and the rest take `n / R`, so sizes differ by at most one; when
/// `n < R` the last ranks get empty shards.
///
/// Because shards may differ in size, averaging each rank's *mean* gradient would weight
/// samples unevenly. To reproduce the full-batch mean exactly, each rank scales its
/// shard's summed (or mean x shard size) gradient by `1 / n` and the group sums with one
/// allreduce; `weight(count:rank:rankCount:)` gives that factor for a shard mean.
public enum DataParallelShard {
    /// Positions `lower ..< upper` within a batch of `count` samples owned by `rank`.
    public static func bounds(count: Int, rank: Int, rankCount: Int) -> Range<Int> {
        precondition(rankCount > 0, "rank count must be positive, got \(rankCount)")
        precondition(rank >= 0 && rank < rankCount, "rank \(rank) outside 0..<\(rankCount)")
        precondition(count >= 0, "batch size must be non-negative, got \(count)")
        let base = count / rankCount
        let extra = count % rankCount
        let start = rank * base + min(rank, extra)
        return start ..< start + base + (rank < extra ? 1 : 0)
    }

    /// The factor by which rank `rank` multiplies the gradient of its shard's mean loss so
    /// that summing over ranks gives the gradient of the whole batch's mean loss:
    /// `shardSize / count` (0 for an empty shard).
    public static func weight(count: Int, rank: Int, rankCount: Int) -> Float {
        guard count > 0 else { return 0 }
        return Float(bounds(count: count, rank: rank, rankCount: rankCount).count) / Float(count)
    }
}
