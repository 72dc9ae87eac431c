import CohortTensor

/// Reptile (Nichol et al.): adapt a copy of the weights with `innerSteps` SGD steps on
/// the task's labelled points (support and queries together), and use theta - phi, the
/// way back from the adapted weights, as the meta-gradient; with an outer SGD step of
/// 1 the new weights are the meta-batch's mean adapted weights.
public final class Reptile: MetaLearner {
    public let kind = LearnerKind.reptile
    public let model: Model
    public let network: Conv4
    public let innerSteps: Int, innerLearningRate: Float, testSteps: Int
    private let tape = Tape()
    private var saved: [Float]

    public init(network: Conv4, model: Model, innerSteps: Int, innerLearningRate: Float, testSteps: Int) {
        self.network = network
        self.model = model
        self.innerSteps = innerSteps
        self.innerLearningRate = innerLearningRate
        self.testSteps = testSteps
        saved = [Float](repeating: 0, count: model.parameterCount)
    }

    public func addMetaGradient(_ task: TaskImages, weight: Float, into accumulator: UnsafeMutableBufferPointer<Float>) -> (loss: Double, accuracy: Double) {
        saved.withUnsafeMutableBufferPointer { s in _ = s.update(from: model.parameters.flat) }
        // The query accuracy before adaptation, for the journal.
        let before = InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape)
        InnerLoop.adapt(model, images: task.support + task.query, labels: task.supportLabels + task.queryLabels,
                        sampleShape: task.sampleShape, steps: innerSteps, learningRate: innerLearningRate, tape: tape)
        let p = model.parameters.flat
        saved.withUnsafeBufferPointer { theta in
            for i in 0..<p.count { accumulator[i] += weight * (theta[i] - p[i]) }
        }
        saved.withUnsafeBufferPointer { model.parameters.copy(from: $0) }
        return (before.loss, before.accuracy)
    }

    public func predict(_ task: TaskImages) -> [Int] {
        saved.withUnsafeMutableBufferPointer { s in _ = s.update(from: model.parameters.flat) }
        defer { saved.withUnsafeBufferPointer { model.parameters.copy(from: $0) } }
        InnerLoop.adapt(model, images: task.support, labels: task.supportLabels, sampleShape: task.sampleShape,
                        steps: testSteps, learningRate: innerLearningRate, tape: tape)
        return InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape).predictions
    }
}
