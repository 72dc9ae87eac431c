import CohortCluster
import CohortData
import CohortTensor
import CohortTrain
import Foundation

/// What a comparison trains on: labelled images (cross-entropy, accuracy) or pairs of
/// fields (relative L2 loss and error, as the operator-learning literature reports).
public enum XDTaskData {
    case images(train: Dataset, test: Dataset)
    case fields(train: FieldPairs, test: FieldPairs)

    var trainCount: Int {
        switch self {
        case .images(let train, _): return train.count
        case .fields(let train, _): return train.count
        }
    }

    /// Classes of an image task (0 for fields).
    var classCount: Int {
        if case .images(let train, _) = self { return train.classCount }
        return 0
    }

    var inputShape: [Int] {
        switch self {
        case .images(let train, _): return train.sampleShape
        case .fields(let train, _): return train.inputShape
        }
    }
}

/// Trains one network (weights and, for XD, K-matrices in their own parameter group)
/// alone or data-parallel, in the same four steps as `CohortTrain.Trainer`: each rank
/// takes its contiguous shard of the global batch (the order depends on the seed and
/// the epoch only), backpropagates its shard's loss scaled by shard / batch size, one
/// sum-allreduce of the flat gradient buffer (weights and K-matrices together) gives
/// every rank the batch's gradient, and every rank applies the same grouped update;
/// batch-norm statistics are averaged. Replicas stay bit-identical, which
/// `verifyEvery` checks.
final class XDTrainer {
    let model: Model
    let optimizer: Optimizer
    let data: XDTaskData
    let batchSize: Int
    let communicator: Communicator
    var sampler: MinibatchSampler
    var verifyEvery = 0
    private(set) var replicaChecks = 0
    private let tape = Tape(), evalTape = Tape(mode: .evaluation)
    private let inputs: TensorStorage, targets: TensorStorage
    private let labels: UnsafeMutableBufferPointer<Int32>
    private let evaluationBatch: Int

    init(model: Model, optimizer: Optimizer, data: XDTaskData, batchSize: Int, seed: UInt64, communicator: Communicator) throws {
        self.model = model
        self.optimizer = optimizer
        self.data = data
        self.batchSize = batchSize
        self.communicator = communicator
        sampler = try MinibatchSampler(sampleCount: data.trainCount, batchSize: batchSize, seed: seed, stream: [0x7864])
        evaluationBatch = max(batchSize, 100)
        let width = data.inputShape.reduce(1, *)
        inputs = TensorStorage(capacity: evaluationBatch * width)
        switch data {
        case .images: targets = TensorStorage(capacity: 1)
        case .fields(let train, _): targets = TensorStorage(capacity: evaluationBatch * train.targetCount)
        }
        labels = .allocate(capacity: evaluationBatch)
        labels.initialize(repeating: 0)
    }

    deinit { labels.deallocate() }

    /// Copies samples `indices` of the training or test split into the batch buffers;
    /// returns how many.
    private func batch<C: Collection>(_ indices: C, test: Bool) -> Int where C.Element == Int {
        switch data {
        case .images(let train, let testSet):
            return (test ? testSet : train).fillBatch(indices, features: UnsafeMutableBufferPointer(start: inputs.base, count: inputs.capacity), labels: labels)
        case .fields(let train, let testSet):
            return (test ? testSet : train).fill(indices, input: inputs.base, target: targets.base)
        }
    }

    /// The mean loss of `output` over its `n` samples, and the summed metric
    /// (correct predictions, or relative L2 errors).
    private func loss(_ output: Tensor, n: Int, on tape: Tape) -> (loss: Tensor, metricSum: Double) {
        switch data {
        case .images:
            let lb = UnsafeBufferPointer(start: labels.baseAddress, count: n)
            return (tape.crossEntropy(output, labels: lb), Double(output.countCorrect(labels: lb)))
        case .fields:
            let target = Tensor(shape: output.shape, storage: targets)
            let axes = Array(1..<output.rank)
            let errorNorm = tape.sqrt(tape.sum(tape.pow(tape.sub(output, target), 2), axes: axes))
            let targetNorm = tape.withoutGradients { tape.sqrt(tape.add(tape.sum(tape.mul(target, target), axes: axes), 1e-12)) }
            let relative = tape.div(errorNorm, targetNorm)
            return (tape.mean(relative), relative.toArray().reduce(0) { $0 + Double($1) })
        }
    }

    /// One epoch; returns the mean training loss over all ranks.
    func trainEpoch(_ epoch: Int) throws -> Double {
        sampler.startEpoch(epoch)
        let rank = communicator.rank, ranks = communicator.size
        let inputShape = data.inputShape
        var lossSum: Double = 0, seen = 0
        for b in 0..<sampler.batchCount {
            let indices = sampler.shardIndices(batch: b, rank: rank, rankCount: ranks)
            let global = sampler.batchBounds(b).count
            tape.reset()
            model.zeroGradients()
            let n = batch(indices, test: false)
            if n > 0 {
                let output = model(Tensor(shape: Shape([n] + inputShape), storage: inputs), tape)
                let (loss, _) = self.loss(output, n: n, on: tape)
                tape.backward(loss, scale: Float(n) / Float(global))
                lossSum += Double(loss.item) * Double(n)
                seen += n
            }
            try Trainer.combineShards(of: model, communicator: communicator)
            optimizer.step(model)
            if verifyEvery > 0 && optimizer.stepCount % verifyEvery == 0 { try checkReplicas() }
        }
        var totals = [lossSum, Double(seen)]
        if ranks > 1 { try communicator.allreduce(&totals, op: .sum) }
        guard totals[0].isFinite else { throw XDInputError("training diverged (loss \(totals[0])) in epoch \(epoch + 1); lower the learning rate") }
        return totals[0] / max(totals[1], 1)
    }

    /// Test accuracy (images) or mean relative L2 error (fields), each rank scoring a share.
    func evaluate() throws -> Double {
        let count: Int
        switch data {
        case .images(_, let test): count = test.count
        case .fields(_, let test): count = test.count
        }
        let share = DataParallelShard.bounds(count: count, rank: communicator.rank, rankCount: communicator.size)
        var metric: Double = 0
        var start = share.lowerBound
        while start < share.upperBound {
            let end = min(start + evaluationBatch, share.upperBound)
            evalTape.reset()
            let n = batch(start..<end, test: true)
            let output = model(Tensor(shape: Shape([n] + data.inputShape), storage: inputs), evalTape)
            metric += loss(output, n: n, on: evalTape).metricSum
            start = end
        }
        var total = [metric]
        if communicator.size > 1 { try communicator.allreduce(&total, op: .sum) }
        return total[0] / Double(max(count, 1))
    }

    /// Throws on every rank unless all hold bit-identical weights and K-matrices.
    func checkReplicas() throws {
        var d = WeightDigest()
        d.add(UnsafeBufferPointer(model.parameters.flat))
        d.add(UnsafeBufferPointer(model.state.flat))
        try ReplicaDivergence.check(d.value, step: optimizer.stepCount, communicator: communicator)
        replicaChecks += 1
    }
}
