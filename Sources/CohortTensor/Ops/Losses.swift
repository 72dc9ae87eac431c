import Foundation

// MARK: - Losses (scalar outputs, mean over the batch)

extension Tape {
    /// Mean cross-entropy of `logits` [N, C] against class indices `labels` (N values in
    /// 0..<C), computed from logits through log-softmax for stability. Backward:
    /// dlogits = (softmax - onehot) / N.
    public func crossEntropy(_ logits: Tensor, labels: UnsafeBufferPointer<Int32>) -> Tensor {
        precondition(logits.rank == 2, "cross-entropy expects logits [N, C], got \(logits.shape)")
        let n = logits.shape[0], c = logits.shape[1]
        precondition(labels.count == n, "cross-entropy got \(labels.count) labels for \(n) rows")
        let recorded = needsGrad(logits)
        let loss = output([], requiresGrad: recorded)
        let probs = recorded ? scratch(n * c) : nil
        let saved = scratchIndices(n)
        var total: Double = 0
        for r in 0..<n {
            let label = Int(labels[r])
            precondition(label >= 0 && label < c, "label \(label) at row \(r) is outside 0..<\(c)")
            saved[r] = labels[r]
            let row = logits.pointer + r * c
            let lse = logSumExp(row, c)
            total += Double(lse - row[label])
            if let probs {
                let p = probs + r * c
                for j in 0..<c { p[j] = Foundation.exp(row[j] - lse) }
            }
        }
        loss.pointer.pointee = Float(total / Double(Swift.max(n, 1)))
        guard recorded, let probs else { return loss }
        record(loss) { tape in
            let scale = tape.grad(loss).pointee / Float(n)
            let d = tape.grad(logits)
            for r in 0..<n {
                let p = probs + r * c, dr = d + r * c
                for j in 0..<c { dr[j] += p[j] * scale }
                dr[Int(saved[r])] -= scale
            }
        }
        return loss
    }

    public func crossEntropy(_ logits: Tensor, labels: [Int32]) -> Tensor {
        labels.withUnsafeBufferPointer { crossEntropy(logits, labels: $0) }
    }

    /// Mean squared error, mean((p - t)²); d/dp = 2(p - t)/count.
    public func mse(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape, "mse shapes differ: \(prediction.shape) vs \(target.shape)")
        let n = prediction.count
        let recorded = needsGrad(prediction, target)
        let loss = output([], requiresGrad: recorded)
        let p = prediction.pointer, t = target.pointer
        var total: Double = 0
        for i in 0..<n { let d = Double(p[i] - t[i]); total += d * d }
        loss.pointer.pointee = Float(total / Double(Swift.max(n, 1)))
        guard recorded else { return loss }
        record(loss) { tape in
            let scale = 2 * tape.grad(loss).pointee / Float(n)
            if prediction.requiresGrad {
                let d = tape.grad(prediction)
                for i in 0..<n { d[i] += scale * (p[i] - t[i]) }
            }
            if target.requiresGrad {
                let d = tape.grad(target)
                for i in 0..<n { d[i] -= scale * (p[i] - t[i]) }
            }
        }
        return loss
    }
}

// MARK: - Metrics (no gradients)

extension Tensor {
    /// Index of the largest value in each row of a [N, C] tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs [N, C], got \(shape)")
        let c = shape[1]
        return (0..<shape[0]).map { r in
            let row = pointer + r * c
            var best = 0
            for j in 1..<Swift.max(c, 1) where row[j] > row[best] { best = j }
            return best
        }
    }

    /// How many rows of [N, C] logits put their largest value on the label. Allocates nothing.
    public func countCorrect(labels: UnsafeBufferPointer<Int32>) -> Int {
        precondition(rank == 2 && labels.count == shape[0], "countCorrect needs [N, C] logits and N labels")
        let c = shape[1]
        var correct = 0
        for r in 0..<shape[0] {
            let row = pointer + r * c
            var best = 0
            for j in 1..<Swift.max(c, 1) where row[j] > row[best] { best = j }
            if best == Int(labels[r]) { correct += 1 }
        }
        return correct
    }

    public func countCorrect(labels: [Int32]) -> Int {
        labels.withUnsafeBufferPointer { countCorrect(labels: $0) }
    }
}
