import CohortData
import CohortTensor

/// A tensor-core `Model` as a federated client trains it: the model's flat parameter
/// buffer is the federated parameter buffer, local training is minibatch SGD on the
/// cross-entropy with the tensor core's autograd and optimizer, plus FedProx's proximal
/// gradient `mu (w - w_global)` added to the flat gradient buffer before each step.
///
/// One instance per rank serves every client that rank trains: batch buffers, tapes and
/// optimizers are made once, so a local step allocates no tensor storage after the first.
public final class TensorCoreModel: FederatedModel {
    public let model: Model
    /// The per-sample shape the network takes (flat for an MLP).
    public let inputShape: [Int]
    /// Whether initial parameters are all zero (logistic regression's default here)
    /// rather than drawn by each layer's initializer. FedProx's reference code starts
    /// its logistic model from TensorFlow's default, Glorot-uniform weights and zero
    /// biases: the layers' initializer (`init: glorot`).
    public let zeroInitialization: Bool
    /// For a character model: inputs are indices into a vocabulary of this size, checked
    /// before use (an embedding would otherwise meet an index it has no row for).
    public let indexInputs: Int?
    /// Gradients are scaled to at most this global norm before each step (recurrent
    /// models); nil for none.
    public let gradientClipNorm: Float?

    private let tape = Tape()
    private let evaluationTape = Tape(mode: .evaluation)
    private let inputStorage: TensorStorage
    private var labels: [Int32]
    private var batchCapacity: Int
    /// Local SGD, one per (momentum, weight decay) pair a run uses; momentum buffers are
    /// zeroed at the start of every local training, as a fresh client optimizer would be.
    private var optimizers: [String: SGD] = [:]

    /// Samples scored per evaluation batch.
    static let evaluationBatch = 512

    public init(module: Module, inputShape: [Int], zeroInitialization: Bool = false,
                indexInputs: Int? = nil, gradientClipNorm: Float? = nil) throws {
        model = Model(module, seed: 0)
        guard model.state.count == 0 else {
            throw FederatedError.invalidValue(
                field: "model", message: "has non-trainable state (batch norm); federated averaging here covers trainable parameters only")
        }
        self.inputShape = inputShape
        self.zeroInitialization = zeroInitialization
        self.indexInputs = indexInputs
        self.gradientClipNorm = gradientClipNorm
        batchCapacity = Self.evaluationBatch
        inputStorage = TensorStorage(capacity: batchCapacity * inputShape.reduce(1, *))
        labels = [Int32](repeating: 0, count: batchCapacity)
    }

    public var parameters: UnsafeMutableBufferPointer<Float> { model.parameters.flat }

    public func initializeParameters(_ stream: RandomStream) {
        model.reinitialize(rng: stream)
        if zeroInitialization { model.parameters.zero() }
    }

    // MARK: Local training

    public func train(on data: Dataset, plan: LocalTrainingPlan) throws -> LocalTrainingReport {
        let hp = plan.hyperparameters
        guard hp.batchSize <= batchCapacity else {
            throw FederatedError.invalidValue(field: "local.batch_size", message: "must be at most \(batchCapacity), got \(hp.batchSize)")
        }
        try checkIndices(data)
        let optimizer = try localOptimizer(momentum: hp.momentum, weightDecay: hp.weightDecay)
        optimizer.schedule = .constant(Float(hp.learningRate))
        optimizer.stepCount = 0
        for (_, buffer) in optimizer.state { buffer.flat.update(repeating: 0) }
        for (i, (_, source)) in model.randomSources.enumerated() {
            source.stream = RandomStream(seed: plan.seed, stream: plan.stream + [Self.dropoutPurpose, UInt64(i)])
        }

        var sampler = try FederatedError.wrappingDataErrors {
            try MinibatchSampler(sampleCount: data.count, batchSize: hp.batchSize, seed: plan.seed, stream: plan.stream)
        }
        let mu = Float(hp.proximalMu)
        let w = model.parameters.flat, g = model.gradients.flat, anchor = plan.anchor
        let features = UnsafeMutableBufferPointer(start: inputStorage.base, count: inputStorage.capacity)
        var lossSum = 0.0, steps = 0
        try labels.withUnsafeMutableBufferPointer { labelBuffer in
            for epoch in 0 ..< plan.epochs {
                sampler.startEpoch(epoch)
                for b in 0 ..< sampler.batchCount {
                    tape.reset()
                    model.zeroGradients()
                    let n = data.fillBatch(sampler.batchIndices(b), features: features, labels: labelBuffer)
                    let x = Tensor(shape: Shape([n] + inputShape), storage: inputStorage)
                    let loss = tape.crossEntropy(model(x, tape), labels: UnsafeBufferPointer(rebasing: labelBuffer[0 ..< n]))
                    tape.backward(loss)
                    let value = loss.item
                    guard value.isFinite else { throw LocalTrainingDiverged() }
                    lossSum += Double(value)
                    steps += 1
                    if mu > 0 {
                        for i in 0 ..< w.count { g[i] += mu * (w[i] - anchor[i]) }
                    }
                    if let gradientClipNorm { model.clipGradientNorm(gradientClipNorm) }
                    optimizer.step(model)
                }
            }
        }
        return LocalTrainingReport(lossSum: lossSum, steps: steps)
    }

    private func localOptimizer(momentum: Double, weightDecay: Double) throws -> SGD {
        let key = "\(momentum)/\(weightDecay)"
        if let sgd = optimizers[key] { return sgd }
        let sgd = try SGD(parameterCount: model.parameterCount, learningRate: .constant(0.01),
                          momentum: Float(momentum), weightDecay: Float(weightDecay))
        optimizers[key] = sgd
        return sgd
    }

    private func checkIndices(_ data: Dataset) throws {
        guard let indexInputs else { return }
        if let bad = data.features.firstIndex(where: { !($0 >= 0 && $0 < Float(indexInputs) && $0 == $0.rounded()) }) {
            throw FederatedError.badData(
                path: data.name, message: "sample \(bad / max(data.featureCount, 1)) holds \(data.features[bad]), not a character index in 0..<\(indexInputs)")
        }
    }

    /// Tags the dropout streams of a client's local training.
    static let dropoutPurpose: UInt64 = 0x4472_6F70_4F75_7421 // "DropOut!"

    // MARK: Evaluation

    public func evaluate(on data: Dataset) throws -> EvaluationSums {
        try checkIndices(data)
        var sums = EvaluationSums()
        let features = UnsafeMutableBufferPointer(start: inputStorage.base, count: inputStorage.capacity)
        labels.withUnsafeMutableBufferPointer { labelBuffer in
            var start = 0
            while start < data.count {
                let end = min(start + batchCapacity, data.count)
                evaluationTape.reset()
                let n = data.fillBatch(start ..< end, features: features, labels: labelBuffer)
                let x = Tensor(shape: Shape([n] + inputShape), storage: inputStorage)
                let logits = model(x, evaluationTape)
                let lb = UnsafeBufferPointer(rebasing: labelBuffer[0 ..< n])
                sums.lossSum += Double(evaluationTape.crossEntropy(logits, labels: lb).item) * Double(n)
                sums.correct += logits.countCorrect(labels: lb)
                sums.count += n
                start = end
            }
        }
        return sums
    }
}

