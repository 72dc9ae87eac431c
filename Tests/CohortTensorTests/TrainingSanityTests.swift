import XCTest
@testable import CohortTensor

/// End-to-end learning on a synthetic problem small enough for a debug build.
final class TrainingSanityTests: XCTestCase {
    /// Three Gaussian blobs in 2-D, one per class.
    private func blobs(_ n: Int, seed: UInt64) -> ([Float], [Int32]) {
        var rng = RandomStream(seed: seed, stream: 1)
        let centers: [(Double, Double)] = [(0, 2), (-2, -1), (2, -1)]
        var x: [Float] = [], y: [Int32] = []
        for i in 0..<n {
            let c = i % 3
            x += [Float(centers[c].0 + 0.7 * rng.normal()), Float(centers[c].1 + 0.7 * rng.normal())]
            y.append(Int32(c))
        }
        return (x, y)
    }

    private func accuracy(_ model: Model, _ x: [Float], _ y: [Int32]) -> Double {
        let eval = Tape(mode: .evaluation)
        let logits = model(eval.tensor(x, shape: [y.count, 2]), eval)
        return Double(logits.countCorrect(labels: y)) / Double(y.count)
    }

    func testMLPLearnsBlobs() throws {
        let (trainX, trainY) = blobs(240, seed: 1), (testX, testY) = blobs(120, seed: 2)
        let model = Model(try MLP.make(sizes: [2, 16, 3], batchNorm: true), seed: 3)
        let opt = try SGD(parameterCount: model.parameterCount, learningRate: .cosine(rate: 0.2, totalSteps: 300, minimum: 0.01), momentum: 0.9)
        let tape = Tape()
        let batch = 24
        for epoch in 0..<10 {
            for b in 0..<(trainY.count / batch) {
                tape.reset()
                model.zeroGradients()
                let x = Array(trainX[(b * batch * 2)..<((b + 1) * batch * 2)])
                let y = Array(trainY[(b * batch)..<((b + 1) * batch)])
                tape.backward(tape.crossEntropy(model(tape.tensor(x, shape: [batch, 2]), tape), labels: y))
                opt.step(model)
            }
            _ = epoch
        }
        XCTAssertGreaterThan(accuracy(model, testX, testY), 0.9)
    }

    func testTwoIdenticalRunsGiveBitIdenticalWeights() throws {
        func run() throws -> [UInt32] {
            let model = Model(try MLP.make(sizes: [2, 8, 3], dropout: 0.3), seed: 9)
            let opt = try Adam(parameterCount: model.parameterCount, learningRate: .constant(0.01))
            let (x, y) = blobs(30, seed: 4)
            let tape = Tape()
            for _ in 0..<5 {
                tape.reset(); model.zeroGradients()
                tape.backward(tape.crossEntropy(model(tape.tensor(x, shape: [30, 2]), tape), labels: y))
                opt.step(model)
            }
            return model.parameters.toArray().map(\.bitPattern)
        }
        XCTAssertEqual(try run(), try run())
    }
}
