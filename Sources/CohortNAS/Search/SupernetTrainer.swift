import CohortCluster
import CohortData
import CohortTensor
import CohortTrain

/// Trains a supernet data-parallel and scores architectures with its shared weights.
///
/// A step (every rank runs it on the same batch, with the same path):
/// 1. the rank takes its contiguous shard of the global batch;
/// 2. runs the supernet along the step's path (one architecture, or the mixture) and
///    backpropagates its shard's mean loss scaled by shard size / batch size;
/// 3. when weights are to move, one sum-allreduce of the flat gradient buffer gives
///    every rank the whole batch's gradient; the norm is clipped and the optimizer
///    steps, identically everywhere;
/// 4. when the architecture is to move, the gradient of the architecture weights (30
///    values) is summed over ranks the same way and handed back.
///
/// The supernet normalizes with batch statistics and keeps no running state, so there
/// is nothing else to average. Those statistics are each rank's shard's, so a search
/// depends on the rank count, unless `synchronisedStatistics` sums them over the ranks
/// during steps (``BatchStatisticsSync``): then the shards are normalized as the one
/// batch they form, and ranks counts agree to float rounding. Buffers and tapes are made once; after the first steps
/// a step allocates no tensor storage.
final class SupernetTrainer {
    let network: CellNetwork
    let model: Model
    let optimizer: Optimizer
    let communicator: Communicator
    let gradientClip: Float
    let sampleShape: [Int]
    private let tape = Tape()
    /// Scoring runs on a training-mode tape (batch statistics) that records nothing.
    private let scoringTape = Tape(mode: .training, recordsGradients: false)
    private var inputs: TensorStorage
    private var labels: UnsafeMutableBufferPointer<Int32>
    /// Set when batch statistics are summed over ranks in steps.
    private let sync: BatchStatisticsSync?

    /// Loss and accuracy summed over the samples this rank saw.
    struct Totals {
        var lossSum = 0.0
        var correct = 0
        var samples = 0
    }

    init(network: CellNetwork, seed: UInt64, optimizer makeOptimizer: (Int) throws -> Optimizer, gradientClip: Float,
         largestBatch: Int, communicator: Communicator, synchronisedStatistics: Bool = false) throws {
        precondition(network.isSupernet, "SupernetTrainer trains a supernet")
        if synchronisedStatistics {
            let sync = BatchStatisticsSync(communicator: communicator)
            sync.install(in: network)
            self.sync = sync
        } else {
            sync = nil
        }
        self.network = network
        model = Model(network, seed: seed)
        optimizer = try makeOptimizer(model.parameterCount)
        self.communicator = communicator
        self.gradientClip = gradientClip
        sampleShape = network.inputShape
        inputs = TensorStorage(capacity: largestBatch * network.inputShape.reduce(1, *))
        labels = .allocate(capacity: largestBatch)
        labels.initialize(repeating: 0)
    }

    deinit { labels.deallocate() }

    /// Grows the batch buffers to hold `count` samples (once per larger batch size).
    private func reserve(_ count: Int) {
        guard count > labels.count else { return }
        inputs = TensorStorage(capacity: count * sampleShape.reduce(1, *))
        labels.deallocate()
        labels = .allocate(capacity: count)
        labels.initialize(repeating: 0)
    }

    // MARK: Training

    /// One data-parallel pass over this rank's `shard` of a batch of `batchCount`
    /// samples along the path `makePath` builds on the tape. Returns the gradient of
    /// the architecture variable (summed over ranks) when the path has one.
    func step(_ data: Dataset, shard: ArraySlice<Int>, batchCount: Int, updateWeights: Bool,
              totals: inout Totals, makePath: (Tape) -> (CellPath, Tensor?)) throws -> [Float]? {
        tape.reset()
        model.zeroGradients()
        sync?.active = true
        defer { sync?.active = false }
        reserve(shard.count)
        let n = data.fillBatch(shard, features: UnsafeMutableBufferPointer(start: inputs.base, count: inputs.capacity), labels: labels)
        precondition(n > 0, "every rank needs at least one sample of each batch (checked when the config is read)")
        let x = Tensor(shape: Shape([n] + sampleShape), storage: inputs)
        let (path, variable) = makePath(tape)
        network.path = path
        let logits = network.forward(x, tape)
        let lb = UnsafeBufferPointer(start: labels.baseAddress, count: n)
        let loss = tape.crossEntropy(logits, labels: lb)
        tape.backward(loss, scale: Float(n) / Float(batchCount))
        try sync?.rethrow()
        totals.lossSum += Double(loss.item) * Double(n)
        totals.correct += logits.countCorrect(labels: lb)
        totals.samples += n

        var architectureGradient: [Float]?
        if let variable {
            var g = variable.gradient ?? [Float](repeating: 0, count: variable.count)
            if communicator.size > 1 { try communicator.allreduce(&g, op: .sum) }
            architectureGradient = g
        }
        if updateWeights {
            if communicator.size > 1 { try communicator.allreduce(model.gradients.flat, op: .sum) }
            if gradientClip > 0 { model.clipGradientNorm(gradientClip) }
            optimizer.step(model)
        }
        return architectureGradient
    }

    // MARK: Scoring with the shared weights

    /// Correct predictions and summed loss of `architecture` on the samples at
    /// `indices`, as one batch (its statistics normalize). The same on every rank:
    /// no sharding, no state changes.
    func score(_ architecture: CellArchitecture, _ data: Dataset, indices: ArraySlice<Int>) -> (correct: Int, lossSum: Double) {
        score(data, indices: indices) { _ in .single(architecture) }
    }

    /// The same along the path `makePath` builds on the scoring tape (the mixture, for
    /// the supernet's own validation accuracy).
    func score(_ data: Dataset, indices: ArraySlice<Int>, path makePath: (Tape) -> CellPath) -> (correct: Int, lossSum: Double) {
        scoringTape.reset()
        reserve(indices.count)
        let n = data.fillBatch(indices, features: UnsafeMutableBufferPointer(start: inputs.base, count: inputs.capacity), labels: labels)
        let x = Tensor(shape: Shape([n] + sampleShape), storage: inputs)
        network.path = makePath(scoringTape)
        let logits = network.forward(x, scoringTape)
        let lb = UnsafeBufferPointer(start: labels.baseAddress, count: n)
        let loss = scoringTape.crossEntropy(logits, labels: lb)
        return (logits.countCorrect(labels: lb), Double(loss.item) * Double(n))
    }

    // MARK: Replica agreement

    /// Digest of the supernet's weights and of `architectureValues`.
    func digest(architectureValues: [Double]) -> WeightDigest {
        var d = WeightDigest()
        d.add(UnsafeBufferPointer(model.parameters.flat))
        d.add(architectureValues)
        return d
    }

    /// Compares every rank's digest (one allgather); throws the same error on every
    /// rank when they differ.
    @discardableResult
    func verifyReplicas(step: Int, architectureValues: [Double]) throws -> UInt64 {
        let mine = digest(architectureValues: architectureValues).value
        try ReplicaDivergence.check(mine, step: step, what: "supernet and architecture weights", communicator: communicator)
        return mine
    }
}
