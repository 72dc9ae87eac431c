import CohortCluster
import CohortData
import CohortTensor

/// Trains one model on one dataset, alone or data-parallel over a communicator.
///
/// Data-parallel step (every rank runs the same loop):
/// 1. every rank takes its contiguous shard of the same global batch (the sampler's
///    order depends only on the seed and the epoch);
/// 2. it backpropagates its shard's mean loss scaled by shard size / batch size, so that
/// 3. one sum-allreduce of the flat gradient buffer yields the gradient of the whole
///    batch's mean loss on every rank;
/// 4. every rank applies the same optimizer update to the same weights, so the weights
///    stay bit-identical; non-trainable state (batch-norm running statistics, computed
///    on each shard) is averaged with a second, small allreduce.
///
/// Buffers (batch input, labels, tapes) are made once; after the first step a step
/// allocates no tensor storage.
public final class Trainer {
    public let model: Model
    public let optimizer: Optimizer
    public let inputShape: [Int]
    public let batchSize: Int
    let communicator: Communicator
    let tape = Tape()
    let evalTape = Tape(mode: .evaluation)
    let inputStorage: TensorStorage
    let labels: UnsafeMutableBufferPointer<Int32>
    /// Every replica's digest compared after every step (slower; for tests and checks).
    public var verifiesReplicas = false
    public private(set) var replicaChecks = 0

    public init(model: Model, optimizer: Optimizer, inputShape: [Int], batchSize: Int, communicator: Communicator) {
        self.model = model
        self.optimizer = optimizer
        self.inputShape = inputShape
        self.batchSize = batchSize
        self.communicator = communicator
        let evalBatch = max(batchSize, Trainer.evaluationBatch)
        inputStorage = TensorStorage(capacity: evalBatch * inputShape.reduce(1, *))
        labels = .allocate(capacity: evalBatch)
        labels.initialize(repeating: 0)
    }

    deinit { labels.deallocate() }

    static let evaluationBatch = 500

    /// Loss and accuracy summed over an epoch (over all ranks).
    public struct EpochStats: Sendable {
        public var loss: Double
        public var accuracy: Double
        public var samples: Int
        public var steps: Int
    }

    // MARK: Training

    /// One pass over `data` in the order `sampler` gives for `epoch`.
    public func trainEpoch(_ data: Dataset, sampler: inout MinibatchSampler, epoch: Int) throws -> EpochStats {
        sampler.startEpoch(epoch)
        return try trainBatches(data, sampler: sampler, batches: 0..<sampler.batchCount)
    }

    /// Batches `batches` of the epoch the sampler is positioned at: how a run stops and
    /// continues in the middle of an epoch (a search that counts its resource in
    /// optimizer steps). Starting at batch 0 reseeds dropout for the epoch; continuing
    /// mid-epoch keeps the dropout streams as they are (a checkpoint restores them), so
    /// split and whole epochs train identically.
    public func trainBatches(_ data: Dataset, sampler: MinibatchSampler, batches: Range<Int>) throws -> EpochStats {
        if batches.lowerBound == 0 { reseedDropout(epoch: sampler.epoch) }
        let rank = communicator.rank, ranks = communicator.size
        var lossSum: Double = 0, correct = 0, seen = 0
        for b in batches {
            let indices = sampler.shardIndices(batch: b, rank: rank, rankCount: ranks)
            let global = sampler.batchBounds(b).count
            tape.reset()
            model.zeroGradients()
            let n = data.fillBatch(indices, features: UnsafeMutableBufferPointer(start: inputStorage.base, count: inputStorage.capacity),
                                   labels: labels)
            if n > 0 {
                let x = Tensor(shape: Shape([n] + inputShape), storage: inputStorage)
                let logits = model(x, tape)
                let lb = UnsafeBufferPointer(start: labels.baseAddress, count: n)
                let loss = tape.crossEntropy(logits, labels: lb)
                tape.backward(loss, scale: Float(n) / Float(global))
                lossSum += Double(loss.item) * Double(n)
                correct += logits.countCorrect(labels: lb)
                seen += n
            }
            try Trainer.combineShards(of: model, communicator: communicator)
            optimizer.step(model)
            if verifiesReplicas { try checkReplicas() }
        }
        var totals: [Double] = [lossSum, Double(correct), Double(seen)]
        if ranks > 1 { try communicator.allreduce(&totals, op: .sum) }
        return EpochStats(loss: totals[0] / max(totals[2], 1), accuracy: totals[1] / max(totals[2], 1),
                          samples: Int(totals[2]), steps: batches.count)
    }

    /// Steps 3 and 4's collectives: sums every rank's shard gradient into the batch's
    /// gradient (one allreduce of the flat buffer) and averages the non-trainable state
    /// (batch-norm statistics computed per shard). Nothing to do on one rank.
    public static func combineShards(of model: Model, communicator: Communicator) throws {
        let ranks = communicator.size
        guard ranks > 1 else { return }
        try communicator.allreduce(model.gradients.flat, op: .sum)
        if model.state.count > 0 {
            try communicator.allreduce(model.state.flat, op: .sum)
            let inv = 1 / Float(ranks)
            for i in model.state.flat.indices { model.state.flat[i] *= inv }
        }
    }

    /// Dropout masks depend on (seed, rank, epoch) only, so a resumed run draws the same
    /// masks as an uninterrupted one and ranks draw different ones.
    private var dropoutSeed: UInt64 = 0
    public func setDropoutSeed(_ seed: UInt64) { dropoutSeed = seed }
    private func reseedDropout(epoch: Int) {
        for (i, (_, source)) in model.randomSources.enumerated() {
            source.stream = RandomStream(seed: dropoutSeed, stream: [0x44_726F_706F_7574, UInt64(communicator.rank), UInt64(epoch), UInt64(i)])
        }
    }

    // MARK: Evaluation

    /// Mean loss and accuracy on `data`, each rank scoring a contiguous share.
    public func evaluate(_ data: Dataset) throws -> (loss: Double, accuracy: Double) {
        let share = DataParallelShard.bounds(count: data.count, rank: communicator.rank, rankCount: communicator.size)
        var lossSum: Double = 0, correct = 0
        var start = share.lowerBound
        let step = max(batchSize, Trainer.evaluationBatch)
        while start < share.upperBound {
            let end = min(start + step, share.upperBound)
            evalTape.reset()
            let n = data.fillBatch(start..<end, features: UnsafeMutableBufferPointer(start: inputStorage.base, count: inputStorage.capacity),
                                   labels: labels)
            let x = Tensor(shape: Shape([n] + inputShape), storage: inputStorage)
            let logits = model(x, evalTape)
            let lb = UnsafeBufferPointer(start: labels.baseAddress, count: n)
            lossSum += Double(evalTape.crossEntropy(logits, labels: lb).item) * Double(n)
            correct += logits.countCorrect(labels: lb)
            start = end
        }
        var totals: [Double] = [lossSum, Double(correct)]
        if communicator.size > 1 { try communicator.allreduce(&totals, op: .sum) }
        return (totals[0] / Double(max(data.count, 1)), totals[1] / Double(max(data.count, 1)))
    }

    // MARK: Replica agreement

    /// The digest of every parameter and state value.
    public var weightDigest: UInt64 {
        var d = WeightDigest()
        d.add(UnsafeBufferPointer(model.parameters.flat))
        d.add(UnsafeBufferPointer(model.state.flat))
        return d.value
    }

    /// Throws ``ReplicaDivergence`` on every rank unless all hold bit-identical weights.
    public func checkReplicas() throws {
        try ReplicaDivergence.check(weightDigest, step: optimizer.stepCount, communicator: communicator)
        replicaChecks += 1
    }
}
