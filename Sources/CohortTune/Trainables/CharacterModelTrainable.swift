import CohortData
import CohortFiles
import CohortTensor
import CohortTrain
import Foundation

/// One trial of a character language model: an embedding, stacked LSTM (or GRU) layers
/// and a softmax over the vocabulary at every step, trained by truncated
/// backpropagation through time on a corpus of plays; the metric is validation bits
/// per character.
///
/// Training reads the corpus as `batch_size` parallel streams, each a contiguous
/// stretch of it; step s trains on the next `sequence_length` characters of every
/// stream, continuing the recurrent state of step s - 1. One unit of resource is
/// `steps_per_unit` steps, and the state restarts from zeros at every unit's first step
/// (and wherever a stream starts over), so a rung always ends where the next one starts
/// from a state that needs no saving: pause and resume are exact, bit for bit, given the
/// weights and the optimizer's buffers the checkpoint holds. Nothing in training is
/// random but the initial weights, drawn from the experiment seed and the trial id.
public final class CharacterModelTrainable: Trainable {
    public let trial: Int
    public let config: TrialConfig
    public let hyperparameters: CharacterModelHyperparameters
    let factory: CharacterModelTrainableFactory
    public let model: Model
    let stack: RecurrentStack
    let optimizer: Optimizer
    public private(set) var trainedResource: Double = 0
    private let tape = Tape()
    private var inputs: [Float], targets: [Int32]
    /// Characters per training stream, and the segments one pass over them makes.
    let streamLength: Int, segmentsPerPass: Int

    static let modelStream: UInt64 = 0x4368_6172_4D6F_6465 // "CharMode"

    init(trial: Int, config: TrialConfig, factory: CharacterModelTrainableFactory) throws {
        self.trial = trial
        self.config = config
        self.factory = factory
        let h = CharacterModelHyperparameters(config)
        hyperparameters = h
        let v = factory.corpus.vocabulary.count, steps = factory.sequenceLength
        streamLength = factory.corpus.train.count / h.batchSize
        segmentsPerPass = (streamLength - 1) / steps
        guard segmentsPerPass >= 1 else {
            throw ConfigError(at: "space.batch_size", "\(h.batchSize) streams of \(factory.corpus.train.count) training characters are shorter than sequence_length + 1 (\(steps + 1))")
        }
        stack = RecurrentStack(h.cell, inputSize: h.embedding, hiddenSize: h.hidden, layers: h.layers)
        stack.carriesState = true
        let net = Sequential(Embedding(vocabulary: v, dimension: h.embedding), stack, Linear(h.hidden, v, weightInit: .xavierUniform))
        var seeds = RandomStream(seed: factory.context.seed, stream: [Self.modelStream, UInt64(trial)])
        model = Model(net, seed: seeds.next())
        var spec = OptimizerSpec()
        spec.kind = h.optimizer
        spec.learningRate = Float(h.learningRate)
        spec.momentum = h.optimizer == .sgd ? 0.9 : 0
        optimizer = try spec.make(parameterCount: model.parameterCount, stepsPerEpoch: 1, epochs: 1)
        inputs = [Float](repeating: 0, count: h.batchSize * steps)
        targets = [Int32](repeating: 0, count: h.batchSize * steps)
    }

    /// Optimizer steps taken so far.
    public var step: Int { optimizer.stepCount }

    // MARK: Training

    public func train(to resource: Double) throws {
        let target = factory.steps(for: resource)
        let b = hyperparameters.batchSize, t = factory.sequenceLength, text = factory.corpus.train
        while step < target {
            let segment = step % segmentsPerPass
            if step % factory.stepsPerUnit == 0 || segment == 0 { stack.resetState() }
            for n in 0 ..< b {
                let start = n * streamLength + segment * t
                for k in 0 ..< t {
                    inputs[n * t + k] = Float(text[start + k])
                    targets[n * t + k] = text[start + k + 1]
                }
            }
            tape.reset()
            model.zeroGradients()
            let logits = model(tape.tensor(inputs, shape: [b, t]), tape)
            let loss = tape.crossEntropy(tape.reshape(logits, [b * t, factory.corpus.vocabulary.count]), labels: targets)
            tape.backward(loss)
            guard loss.item.isFinite else {
                throw TrainingDiverged(trial: trial, step: step, what: "training loss is \(loss.item)")
            }
            if hyperparameters.clipNorm > 0 { model.clipGradientNorm(Float(hyperparameters.clipNorm)) }
            optimizer.step(model)
        }
        trainedResource = max(trainedResource, resource)
    }

    // MARK: Metrics

    /// Validation bits per character.
    public func evaluate() throws -> Double { try bitsPerCharacter(factory.corpus.validation) }

    /// Test bits per character.
    public func testMetric() throws -> Double? { try bitsPerCharacter(factory.corpus.test) }

    /// Mean −log₂ p(next character) over `text`, read as `evaluationStreams` streams in
    /// segments that carry the state on. The training state is put back afterwards.
    func bitsPerCharacter(_ text: [Int32]) throws -> Double {
        let saved = stack.carriedState
        defer { stack.carriedState = saved }
        let streams = min(CharacterModelTrainableFactory.evaluationStreams, max(1, (text.count - 1) / 2))
        let length = (text.count - 1) / streams, t = factory.sequenceLength, v = factory.corpus.vocabulary.count
        let evaluation = Tape(mode: .evaluation)
        stack.resetState()
        var nats = 0.0, count = 0, start = 0
        while start < length {
            let steps = min(t, length - start)
            var x = [Float](repeating: 0, count: streams * steps), y = [Int32](repeating: 0, count: streams * steps)
            for n in 0 ..< streams {
                for k in 0 ..< steps {
                    x[n * steps + k] = Float(text[n * length + start + k])
                    y[n * steps + k] = text[n * length + start + k + 1]
                }
            }
            evaluation.reset()
            let logits = model(evaluation.tensor(x, shape: [streams, steps]), evaluation)
            let loss = evaluation.crossEntropy(evaluation.reshape(logits, [streams * steps, v]), labels: y).item
            nats += Double(loss) * Double(streams * steps)
            count += streams * steps
            start += steps
        }
        let bits = nats / Double(max(count, 1)) / log(2.0)
        guard bits.isFinite else { throw TrainingDiverged(trial: trial, step: step, what: "bits per character is \(bits)") }
        return bits
    }

    // MARK: Checkpoints

    public func save(to url: URL) throws {
        let checkpoint = Checkpoint(model: model, optimizer: optimizer, step: step, metadata: [
            "trial": String(trial), "config": config.description, "resource": JSONValue.number(trainedResource).description,
            "trainable": "char_lstm",
        ])
        try checkpoint.write(to: url)
    }

    public func restore(from url: URL, resource: Double) throws {
        let checkpoint = try Checkpoint.read(from: url)
        guard checkpoint.metadata["trial"] == String(trial), checkpoint.metadata["config"] == config.description else {
            throw TrainableError.badCheckpoint(url.path, "it belongs to trial \(checkpoint.metadata["trial"] ?? "?") (\(checkpoint.metadata["config"] ?? "?")), not trial \(trial) (\(config))")
        }
        try checkpoint.restore(into: model, optimizer: optimizer)
        let expected = factory.steps(for: resource)
        guard step == expected else {
            throw TrainableError.badCheckpoint(url.path, "it holds \(step) optimizer steps, but resource \(JSONValue.number(resource)) is \(expected) steps")
        }
        guard step % factory.stepsPerUnit == 0 else {
            throw TrainableError.badCheckpoint(url.path, "step \(step) is inside a unit of \(factory.stepsPerUnit) steps; a character model resumes at whole units only")
        }
        trainedResource = resource
    }
}
