import CohortTensor

/// Reptile (Nichol et al.): adapt a copy of the weights with `innerSteps` SGD steps on
/// the task's labelled points (support and queries together), and use theta - phi, the
/// way back from the adapted weights, as the meta-gradient; with an outer SGD step of
/// 1 the new weights are the meta-batch's mean adapted weights.
public final class Reptile: AdaptingLearner, MetaLearner {
    public let kind = LearnerKind.reptile

    public func addMetaGradient(_ task: TaskImages, weight: Float, into accumulator: UnsafeMutableBufferPointer<Float>) -> (loss: Double, accuracy: Double) {
        save()
        // The query accuracy before adaptation, for the journal.
        let before = InnerLoop.evaluate(model, images: task.query, labels: task.queryLabels, sampleShape: task.sampleShape, tape: tape)
        InnerLoop.adapt(model, images: task.support + task.query, labels: task.supportLabels + task.queryLabels,
                        sampleShape: task.sampleShape, steps: innerSteps, learningRate: innerLearningRate, tape: tape)
        let p = model.parameters.flat
        saved.withUnsafeBufferPointer { theta in
            for i in 0..<p.count { accumulator[i] += weight * (theta[i] - p[i]) }
        }
        restore()
        return (before.loss, before.accuracy)
    }
}
