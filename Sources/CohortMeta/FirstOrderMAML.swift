import CohortTensor

/// First-order MAML (Finn et al.; Nichol et al.): adapt a copy of the weights with
/// `innerSteps` SGD steps on the support set, then take the query loss's gradient at the
/// adapted weights as the meta-gradient (no second-order terms).
public final class FirstOrderMAML: MetaLearner {
    public let kind = LearnerKind.fomaml
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
        save()
        defer { restore() }
        InnerLoop.adapt(model, images: task.support, labels: task.supportLabels, sampleShape: task.sampleShape,
                        steps: innerSteps, learningRate: innerLearningRate, tape: tape)
        let r = InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape,
                                   weight: weight, gradientInto: accumulator)
        return (r.loss, r.accuracy)
    }

    public func predict(_ task: TaskImages) -> [Int] {
        save()
        defer { restore() }
        InnerLoop.adapt(model, images: task.support, labels: task.supportLabels, sampleShape: task.sampleShape,
                        steps: testSteps, learningRate: innerLearningRate, tape: tape)
        return InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape).predictions
    }

    func save() { saved.withUnsafeMutableBufferPointer { s in _ = s.update(from: model.parameters.flat) } }
    func restore() { saved.withUnsafeBufferPointer { model.parameters.copy(from: $0) } }
}
