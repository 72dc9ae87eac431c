import CohortTensor

/// The three learners, by their config names.
public enum LearnerKind: String, CaseIterable, Sendable {
    case protonets, fomaml, reptile
}

/// A meta-learning rule over one network: what a task contributes to the meta-gradient
/// during meta-training, and how a task is solved at meta-test.
///
/// The meta-gradient lands in a separate accumulator (not the model's gradient buffer,
/// which inner loops use), so a rank can add up several tasks before the one allreduce.
public protocol MetaLearner: AnyObject {
    var kind: LearnerKind { get }
    var model: Model { get }
    var network: Conv4 { get }
    /// Adds `weight` times this task's meta-gradient to `accumulator` (same layout as the
    /// model's parameters); returns the task's query loss and accuracy on the way.
    func addMetaGradient(_ task: TaskImages, weight: Float, into accumulator: UnsafeMutableBufferPointer<Float>) -> (loss: Double, accuracy: Double)
    /// The predicted way of each query after adapting to the support set.
    func predict(_ task: TaskImages) -> [Int]
}

extension MetaLearner {
    /// Embeddings of `images` (rows of `sampleShape`) with batch statistics, no gradients.
    public func embed(_ images: [Float], count: Int, sampleShape: [Int], tape: Tape) -> [Float] {
        tape.reset()
        return tape.withoutGradients {
            network.embed(tape.tensor(images, shape: Shape([count] + sampleShape)), tape).toArray()
        }
    }
}

/// Plain SGD on a model's own buffers: the inner loop of FOMAML and Reptile, and the
/// adaptation at meta-test.
enum InnerLoop {
    /// `steps` full-batch SGD steps of cross-entropy on `images`; returns the last loss.
    @discardableResult
    static func adapt(_ model: Model, images: [Float], labels: [Int32], sampleShape: [Int], steps: Int, learningRate: Float, tape: Tape) -> Double {
        var last = 0.0
        let n = labels.count
        for _ in 0..<steps {
            tape.reset()
            model.zeroGradients()
            let loss = tape.crossEntropy(model(tape.tensor(images, shape: Shape([n] + sampleShape)), tape), labels: labels)
            tape.backward(loss)
            last = Double(loss.item)
            let p = model.parameters.flat, g = model.gradients.flat
            for i in 0..<p.count { p[i] -= learningRate * g[i] }
        }
        return last
    }

    /// Loss, accuracy and (when `gradientInto` is given) the gradient of cross-entropy on
    /// `images` at the model's current weights, added with `weight`.
    static func evaluate(_ model: Model, images: [Float], labels: [Int32], sampleShape: [Int], tape: Tape,
                         weight: Float = 1, gradientInto accumulator: UnsafeMutableBufferPointer<Float>? = nil) -> (loss: Double, accuracy: Double, predictions: [Int]) {
        let n = labels.count
        tape.reset()
        model.zeroGradients()
        let run = { () -> (Double, [Int]) in
            let logits = model(tape.tensor(images, shape: Shape([n] + sampleShape)), tape)
            let loss = tape.crossEntropy(logits, labels: labels)
            if accumulator != nil { tape.backward(loss) }
            return (Double(loss.item), logits.argmaxRows())
        }
        let (loss, predictions) = accumulator == nil ? tape.withoutGradients(run) : run()
        if let accumulator {
            let g = model.gradients.flat
            for i in 0..<g.count { accumulator[i] += weight * g[i] }
        }
        return (loss, accuracy(predictions, labels), predictions)
    }

    static func accuracy(_ predictions: [Int], _ labels: [Int32]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == Int($1) }.count) / Double(labels.count)
    }
}
