import CohortCluster
import CohortData
import CohortTensor
import CohortTrain
import Foundation

/// Trains one ORCA network data-parallel, in the four steps of `CohortTrain.Trainer`:
/// each rank takes its contiguous shard of the global batch (the order depends on the
/// seed and the epoch only), backpropagates its shard's loss scaled by shard / batch
/// size, one sum-allreduce of the gradients gives every rank the batch's gradient, and
/// every rank applies the same update, so replicas stay bit-identical.
///
/// Stage 1 (``alignEpoch(_:optimizer:)``) is the same loop over the embedder alone: the
/// loss is the MMD between the shard's embedded features and a batch of source features
/// drawn from (seed, epoch, batch), so every rank compares with the same source rows;
/// only the embedder's range of the gradient buffer is allreduced and stepped.
final class ORCATrainer {
    let model: Model
    let network: ORCANetwork
    let train: ORCASplit, test: ORCASplit
    let batchSize: Int
    let seed: UInt64
    let communicator: Communicator
    let source: [Float]
    let mmd: MaximumMeanDiscrepancy
    var sampler: MinibatchSampler
    private let tape = Tape(), evalTape = Tape(mode: .evaluation)
    let evaluationBatch: Int
    let embedderRange: Range<Int>

    init(model: Model, network: ORCANetwork, train: ORCASplit, test: ORCASplit, batchSize: Int, seed: UInt64,
         source: [Float], mmd: MaximumMeanDiscrepancy, communicator: Communicator) throws {
        self.model = model; self.network = network; self.train = train; self.test = test
        self.batchSize = batchSize; self.seed = seed; self.source = source; self.mmd = mmd
        self.communicator = communicator
        sampler = try MinibatchSampler(sampleCount: train.count, batchSize: batchSize, seed: seed, stream: [0x6f72_6361])
        evaluationBatch = max(batchSize, 32)
        embedderRange = network.embedderRange(in: model)
    }

    var width: Int { network.body.config.hidden }
    var isClassification: Bool { !train.labels.isEmpty }

    /// The inputs of samples `indices` of `split` as one tensor on `tape`.
    private func inputs<C: Collection>(_ split: ORCASplit, _ indices: C, _ tape: Tape) -> Tensor where C.Element == Int {
        var values: [Float] = []
        values.reserveCapacity(indices.count * split.width)
        for i in indices { values += split.inputs[(i * split.width)..<((i + 1) * split.width)] }
        return tape.tensor(values, shape: [indices.count, split.width])
    }

    /// The mean loss over the samples and the summed metric (correct predictions, or
    /// relative L2 errors as the operator-learning literature reports them).
    private func loss<C: Collection>(_ output: Tensor, _ split: ORCASplit, _ indices: C, _ tape: Tape) -> (Tensor, Double) where C.Element == Int {
        if isClassification {
            let labels = indices.map { split.labels[$0] }
            return (tape.crossEntropy(output, labels: labels), Double(output.countCorrect(labels: labels)))
        }
        var values: [Float] = []
        for i in indices { values += split.targets[(i * split.targetWidth)..<((i + 1) * split.targetWidth)] }
        let target = tape.tensor(values, shape: output.shape)
        let errorNorm = tape.sqrt(tape.sum(tape.pow(tape.sub(output, target), 2), axes: [1]))
        let targetNorm = tape.withoutGradients { tape.sqrt(tape.add(tape.sum(tape.mul(target, target), axes: [1]), 1e-12)) }
        let relative = tape.div(errorNorm, targetNorm)
        return (tape.mean(relative), relative.toArray().reduce(0) { $0 + Double($1) })
    }

    /// Sum-allreduces `range` of the gradient buffer.
    private func combine(_ range: Range<Int>) throws {
        guard communicator.size > 1 else { return }
        try communicator.allreduce(UnsafeMutableBufferPointer(rebasing: model.gradients.flat[range]), op: .sum)
    }

    /// Rows of the source features for batch `b` of stage-1 epoch `epoch`.
    func sourceBatch(epoch: Int, batch: Int, count: Int, _ tape: Tape) -> Tensor {
        let rows = source.count / width
        var rng = RandomStream(seed: seed, stream: [0x616c_6967_6e, UInt64(epoch), UInt64(batch)])
        let chosen = rng.permutation(rows).prefix(min(count, rows))
        var values: [Float] = []
        for r in chosen { values += source[(r * width)..<((r + 1) * width)] }
        return tape.tensor(values, shape: [chosen.count, width])
    }

    /// One stage-1 epoch; returns the mean MMD² over the batches (all ranks).
    func alignEpoch(_ epoch: Int, optimizer: Optimizer) throws -> Double {
        sampler.startEpoch(epoch)
        let rank = communicator.rank, ranks = communicator.size
        var sum: Double = 0
        for b in 0..<sampler.batchCount {
            let indices = sampler.shardIndices(batch: b, rank: rank, rankCount: ranks)
            let global = sampler.batchBounds(b).count
            tape.reset()
            model.zeroGradients()
            if !indices.isEmpty {
                let d = mmd(network.features(inputs(train, indices, tape), tape), sourceBatch(epoch: epoch, batch: b, count: global, tape), tape)
                let weight = Float(indices.count) / Float(global)
                tape.backward(d, scale: weight)
                sum += Double(d.item) * Double(weight)
            }
            try combine(embedderRange)
            optimizer.step(model)
        }
        var total = [sum]
        if ranks > 1 { try communicator.allreduce(&total, op: .sum) }
        guard total[0].isFinite else { throw ORCAInputError("alignment diverged (MMD \(total[0])) in epoch \(epoch + 1); lower alignment.optimizer.learning_rate") }
        return total[0] / Double(max(sampler.batchCount, 1))
    }

    /// One stage-2 epoch; returns the mean training loss over all ranks.
    func trainEpoch(_ epoch: Int, optimizer: Optimizer) throws -> Double {
        sampler.startEpoch(epoch)
        let rank = communicator.rank, ranks = communicator.size
        var lossSum: Double = 0, seen = 0
        for b in 0..<sampler.batchCount {
            let indices = sampler.shardIndices(batch: b, rank: rank, rankCount: ranks)
            let global = sampler.batchBounds(b).count
            tape.reset()
            model.zeroGradients()
            if !indices.isEmpty {
                let output = model(inputs(train, indices, tape), tape)
                let (l, _) = loss(output, train, indices, tape)
                tape.backward(l, scale: Float(indices.count) / Float(global))
                lossSum += Double(l.item) * Double(indices.count)
                seen += indices.count
            }
            try combine(0..<model.parameterCount)
            optimizer.step(model)
        }
        var totals = [lossSum, Double(seen)]
        if ranks > 1 { try communicator.allreduce(&totals, op: .sum) }
        guard totals[0].isFinite else { throw ORCAInputError("training diverged (loss \(totals[0])) in epoch \(epoch + 1); lower training.optimizer.learning_rate") }
        return totals[0] / max(totals[1], 1)
    }

    /// Test accuracy or mean relative L2 error, each rank scoring a share.
    func evaluate() throws -> Double {
        let share = DataParallelShard.bounds(count: test.count, rank: communicator.rank, rankCount: communicator.size)
        var metric: Double = 0
        var start = share.lowerBound
        while start < share.upperBound {
            let end = min(start + evaluationBatch, share.upperBound)
            evalTape.reset()
            let output = model(inputs(test, start..<end, evalTape), evalTape)
            metric += loss(output, test, start..<end, evalTape).1
            start = end
        }
        var total = [metric]
        if communicator.size > 1 { try communicator.allreduce(&total, op: .sum) }
        return total[0] / Double(max(test.count, 1))
    }

    /// MMD² between the embedded features of the first training samples (as many as
    /// there are source rows, at most) and all source features: the distance reported
    /// before and after stage 1. Every rank computes it alike (no communication).
    func alignmentDistance() -> Double {
        let rows = source.count / width
        let n = min(train.count, rows)
        evalTape.reset()
        let x = network.features(inputs(train, 0..<n, evalTape), evalTape)
        let y = evalTape.tensor(source, shape: [rows, width])
        return Double(mmd(x, y, evalTape).item)
    }
}
