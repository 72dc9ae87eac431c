import CohortFiles
import CohortTensor
import Foundation

/// The last stage of a pipeline: a linear classifier trained by minibatch SGD with
/// momentum and L2 decay, one epoch at a time, so that successive halving can stop
/// and continue it. Softmax regression (cross-entropy) or a linear SVM (the
/// multiclass hinge of Crammer and Singer).
///
/// The data order is a pure function of (seed, trial, epoch), so the step count alone
/// says where training stands: training to 3 epochs and continuing to 9 gives the
/// weights of training to 9 at once.
public final class LinearClassifier {
    public enum Loss: String, CaseIterable, Sendable { case softmax, svm }

    public struct Settings: Equatable, Sendable {
        public var loss: Loss
        public var learningRate: Float
        public var l2: Float
        public var momentum: Float
        public var batchSize: Int

        public init(loss: Loss, learningRate: Float, l2: Float, momentum: Float, batchSize: Int) {
            self.loss = loss
            self.learningRate = learningRate
            self.l2 = l2
            self.momentum = momentum
            self.batchSize = batchSize
        }
    }

    public let columns: Int, classes: Int
    public let settings: Settings
    let seed: UInt64, trial: Int
    public private(set) var weights: [Float]
    public private(set) var bias: [Float]
    var velocityW: [Float], velocityB: [Float]
    public private(set) var step = 0
    private var order: (epoch: Int, indices: [Int])?

    /// Tags the data-order streams apart from other streams of the seed.
    static let orderStream: UInt64 = 0x5069_7065_4F72_6472 // "PipeOrdr"

    public init(columns: Int, classes: Int, settings: Settings, seed: UInt64, trial: Int) {
        self.columns = columns
        self.classes = classes
        self.settings = settings
        self.seed = seed
        self.trial = trial
        weights = [Float](repeating: 0, count: columns * classes)
        bias = [Float](repeating: 0, count: classes)
        velocityW = weights
        velocityB = bias
    }

    public func batchesPerEpoch(rows: Int) -> Int { max(1, rows / settings.batchSize) }

    /// Trains on `x` (rows x columns) until `targetStep` optimizer steps in total.
    public func train(_ x: [Float], labels: [Int32], until targetStep: Int) throws {
        let rows = labels.count
        let batch = min(settings.batchSize, rows)
        let perEpoch = batchesPerEpoch(rows: rows)
        var xb = [Float](repeating: 0, count: batch * columns)
        var g = [Float](repeating: 0, count: batch * classes)
        var gradW = [Float](repeating: 0, count: columns * classes)
        while step < targetStep {
            let epoch = step / perEpoch, b = step % perEpoch
            if order?.epoch != epoch {
                var rng = RandomStream(seed: seed, stream: [Self.orderStream, UInt64(trial), UInt64(epoch)])
                order = (epoch, rng.permutation(rows))
            }
            let indices = order?.indices ?? []
            var batchLabels: [Int32] = []
            for i in 0..<batch {
                let r = indices[(b * batch + i) % rows]
                batchLabels.append(labels[r])
                for c in 0..<columns { xb[i * columns + c] = x[r * columns + c] }
            }
            // Scores, then their gradient in place.
            scores(xb, rows: batch, into: &g)
            lossGradient(&g, labels: batchLabels)
            LinearAlgebra.multiply(xb, g, into: &gradW, m: columns, n: classes, k: batch, transposeA: true)
            let lr = settings.learningRate, mu = settings.momentum, l2 = settings.l2
            for i in 0..<weights.count {
                velocityW[i] = mu * velocityW[i] + gradW[i] + l2 * weights[i]
                weights[i] -= lr * velocityW[i]
            }
            for j in 0..<classes {
                var gb: Float = 0
                for i in 0..<batch { gb += g[i * classes + j] }
                velocityB[j] = mu * velocityB[j] + gb
                bias[j] -= lr * velocityB[j]
            }
            step += 1
            if step % 50 == 0 || step == targetStep, !weights.allSatisfy({ $0.isFinite }) {
                throw PipelineError.setting("training diverged after \(step) steps (learning rate \(lr))")
            }
        }
    }

    /// Scores of `rows` rows of `x` into `out` (rows x classes).
    func scores(_ x: [Float], rows: Int, into out: inout [Float]) {
        LinearAlgebra.multiply(x, weights, into: &out, m: rows, n: classes, k: columns)
        for i in 0..<rows { for j in 0..<classes { out[i * classes + j] += bias[j] } }
    }

    /// Turns scores into the gradient of the mean loss over the batch.
    func lossGradient(_ s: inout [Float], labels: [Int32]) {
        let n = labels.count
        let inv = 1 / Float(n)
        for i in 0..<n {
            let y = Int(labels[i]), row = i * classes
            switch settings.loss {
            case .softmax:
                var m = -Float.infinity
                for j in 0..<classes { m = max(m, s[row + j]) }
                var z: Float = 0
                for j in 0..<classes { s[row + j] = exp(s[row + j] - m); z += s[row + j] }
                for j in 0..<classes { s[row + j] = s[row + j] / z * inv }
                s[row + y] -= inv
            case .svm:
                var rival = -1, rivalScore = -Float.infinity
                for j in 0..<classes where j != y && s[row + j] > rivalScore { rival = j; rivalScore = s[row + j] }
                let violated = rival >= 0 && 1 + rivalScore - s[row + y] > 0
                for j in 0..<classes { s[row + j] = 0 }
                if violated {
                    s[row + rival] = inv
                    s[row + y] = -inv
                }
            }
        }
    }

    /// The fraction of rows whose highest score is their label.
    public func accuracy(_ x: [Float], labels: [Int32]) -> Double {
        let rows = labels.count
        guard rows > 0 else { return 0 }
        let chunk = 4096
        var correct = 0
        var out = [Float](repeating: 0, count: min(chunk, rows) * classes)
        var start = 0
        while start < rows {
            let n = min(chunk, rows - start)
            let part = Array(x[(start * columns)..<((start + n) * columns)])
            scores(part, rows: n, into: &out)
            for i in 0..<n {
                var best = 0
                for j in 1..<classes where out[i * classes + j] > out[i * classes + best] { best = j }
                if best == Int(labels[start + i]) { correct += 1 }
            }
            start += n
        }
        return Double(correct) / Double(rows)
    }

    // MARK: Checkpoints

    static let magic = "CohortLinear1\n"

    /// The state as bytes: a header line (JSON: `header` plus the shape and step),
    /// then the weights, bias and both momentum buffers as little-endian floats.
    public func encoded(header: [(String, JSONValue)]) -> Data {
        var fields = header
        fields += [("columns", .int(columns)), ("classes", .int(classes)), ("step", .int(step))]
        var d = Data((Self.magic + JSONValue.object(fields).description + "\n").utf8)
        for part in [weights, bias, velocityW, velocityB] { part.withUnsafeBytes { d.append(contentsOf: $0) } }
        return d
    }

    /// Restores the state written by ``encoded(header:)``; returns its header.
    public func restore(from data: Data) throws -> JSONValue {
        let magic = Data(Self.magic.utf8)
        guard data.starts(with: magic), let newline = data[magic.count...].firstIndex(of: 10) else {
            throw PipelineError.checkpoint("not a linear classifier's checkpoint")
        }
        let header = try JSONValue.parse(String(decoding: data[magic.count..<newline], as: UTF8.self))
        guard header["columns"]?.intValue == columns, header["classes"]?.intValue == classes,
              let step = header["step"]?.intValue, step >= 0 else {
            throw PipelineError.checkpoint("it holds a \(header["columns"]?.description ?? "?") x \(header["classes"]?.description ?? "?") classifier, not \(columns) x \(classes)")
        }
        let floats = 2 * (columns * classes + classes)
        let body = data[(newline + 1)...]
        guard body.count == floats * 4 else { throw PipelineError.checkpoint("it has \(body.count) bytes of weights, expected \(floats * 4)") }
        var all = [Float](repeating: 0, count: floats)
        all.withUnsafeMutableBytes { dst in body.copyBytes(to: dst) }
        let w = columns * classes
        weights = Array(all[0..<w])
        bias = Array(all[w..<(w + classes)])
        velocityW = Array(all[(w + classes)..<(2 * w + classes)])
        velocityB = Array(all[(2 * w + classes)...])
        self.step = step
        return header
    }
}
