import CohortTensor

/// First-order MAML (Finn et al.; Nichol et al.): adapt a copy of the weights with
/// `innerSteps` SGD steps on the support set, then take the query loss's gradient at the
/// adapted weights as the meta-gradient (no second-order terms).
public final class FirstOrderMAML: AdaptingLearner, MetaLearner {
    public let kind = LearnerKind.fomaml

    public func addMetaGradient(_ task: TaskImages, weight: Float, into accumulator: UnsafeMutableBufferPointer<Float>) -> (loss: Double, accuracy: Double) {
        save()
        defer { restore() }
        InnerLoop.adapt(model, images: task.support, labels: task.supportLabels, sampleShape: task.sampleShape,
                        steps: innerSteps, learningRate: innerLearningRate, tape: tape)
        let r = InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape,
                                   weight: weight, gradientInto: accumulator)
        return (r.loss, r.accuracy)
    }
}
