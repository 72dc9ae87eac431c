import CohortTensor

/// What FOMAML and Reptile share: they adapt the model's own weights with SGD from a
/// saved copy, put the copy back afterwards, and solve a test task by adapting to its
/// support set for `testSteps` steps.
public class AdaptingLearner {
    public let model: Model
    public let network: Conv4
    public let innerSteps: Int, innerLearningRate: Float, testSteps: Int
    let tape = Tape()
    /// The weights before adaptation (theta).
    private(set) var saved: [Float]

    public init(network: Conv4, model: Model, innerSteps: Int, innerLearningRate: Float, testSteps: Int) {
        self.network = network
        self.model = model
        self.innerSteps = innerSteps
        self.innerLearningRate = innerLearningRate
        self.testSteps = testSteps
        saved = [Float](repeating: 0, count: model.parameterCount)
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
