import CohortTensor

/// Prototypical networks (Snell et al.): each way's prototype is the mean embedding of
/// its support drawings; a query's logits are minus its squared Euclidean distances to
/// the prototypes. Support and queries go through the network as one batch, so batch
/// norm sees the whole task; the meta-gradient is the query cross-entropy's gradient.
public final class PrototypicalNetworks: MetaLearner {
    public let kind = LearnerKind.protonets
    public let model: Model
    public let network: Conv4
    private let tape = Tape()

    public init(network: Conv4, model: Model) {
        self.network = network
        self.model = model
    }

    public func addMetaGradient(_ task: TaskImages, weight: Float, into accumulator: UnsafeMutableBufferPointer<Float>) -> (loss: Double, accuracy: Double) {
        tape.reset()
        model.zeroGradients()
        let logits = self.logits(task, tape: tape)
        let loss = tape.crossEntropy(logits, labels: task.queryLabels)
        tape.backward(loss)
        let g = model.gradients.flat
        for i in 0..<g.count { accumulator[i] += weight * g[i] }
        return (Double(loss.item), InnerLoop.accuracy(logits.argmaxRows(), task.queryLabels))
    }

    public func predict(_ task: TaskImages) -> [Int] {
        tape.reset()
        return tape.withoutGradients { logits(task, tape: tape).argmaxRows() }
    }

    /// [queries, ways]: -||q - p_w||^2 = 2 q.p_w - ||p_w||^2 - ||q||^2.
    func logits(_ task: TaskImages, tape: Tape) -> Tensor {
        let ns = task.supportCount, nq = task.queryCount, ways = task.ways
        let x = tape.tensor(task.support + task.query, shape: Shape([ns + nq] + task.sampleShape))
        let e = network.embed(x, tape)
        let es = tape.slice(e, axis: 0, 0..<ns), eq = tape.slice(e, axis: 0, ns..<(ns + nq))
        var counts = [Int](repeating: 0, count: ways)
        for l in task.supportLabels { counts[Int(l)] += 1 }
        var averaging = [Float](repeating: 0, count: ways * ns)
        for (i, l) in task.supportLabels.enumerated() { averaging[Int(l) * ns + i] = 1 / Float(counts[Int(l)]) }
        let prototypes = tape.matmul(tape.tensor(averaging, shape: [ways, ns]), es)
        let cross = tape.matmul(eq, prototypes, transposeB: true)
        let prototypeNorms = tape.reshape(tape.sum(tape.mul(prototypes, prototypes), axes: [1]), [1, ways])
        let queryNorms = tape.sum(tape.mul(eq, eq), axes: [1], keepDims: true)
        return tape.sub(tape.sub(tape.mul(cross, 2), prototypeNorms), queryNorms)
    }
}
