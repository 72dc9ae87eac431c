import XCTest
@testable import CohortTensor

/// LSTM and GRU: backward through time against finite differences, truncated
/// backpropagation (segments continue the state), a step that allocates nothing after
/// the first, and an LSTM that learns to count exactly.
final class RecurrentTests: XCTestCase {
    let checker = GradientChecker()

    // MARK: Gradients through time

    func testLSTMGradientsThroughTimeIncludingInitialStates() {
        let b = 2, t = 4, i = 3, h = 2
        checker.check("lstm", [(testValues(b * t * i, seed: 31), [b, t, i]), (testValues(4 * h * i, seed: 32), [4 * h, i]),
                               (testValues(4 * h * h, seed: 33), [4 * h, h]), (testValues(4 * h, seed: 34), [4 * h]),
                               (testValues(b * h, seed: 35), [b, h]), (testValues(b * h, seed: 36), [b, h])]) { tape, x in
            tape.lstm(x[0], weightIH: x[1], weightHH: x[2], bias: x[3], initialHidden: x[4], initialCell: x[5]).sequence
        }
        checker.check("lstm zero state", [(testValues(b * t * i, seed: 37), [b, t, i]), (testValues(4 * h * i, seed: 38), [4 * h, i]),
                                          (testValues(4 * h * h, seed: 39), [4 * h, h]), (testValues(4 * h, seed: 40), [4 * h])]) { tape, x in
            tape.lstm(x[0], weightIH: x[1], weightHH: x[2], bias: x[3]).sequence
        }
    }

    func testGRUGradientsThroughTimeIncludingInitialState() {
        let b = 2, t = 4, i = 3, h = 2
        checker.check("gru", [(testValues(b * t * i, seed: 41), [b, t, i]), (testValues(3 * h * i, seed: 42), [3 * h, i]),
                              (testValues(3 * h * h, seed: 43), [3 * h, h]), (testValues(3 * h, seed: 44), [3 * h]),
                              (testValues(3 * h, seed: 45), [3 * h]), (testValues(b * h, seed: 46), [b, h])]) { tape, x in
            tape.gru(x[0], weightIH: x[1], weightHH: x[2], biasIH: x[3], biasHH: x[4], initialHidden: x[5]).sequence
        }
    }

    func testTwoStackedLayersAndTheLastStep() {
        // Two LSTM layers, the last step read out: the Shakespeare model's shape in small.
        let b = 2, t = 3, i = 2, h = 3
        checker.check("stacked lstm", [(testValues(b * t * i, seed: 51), [b, t, i]),
                                       (testValues(4 * h * i, seed: 52), [4 * h, i]), (testValues(4 * h * h, seed: 53), [4 * h, h]),
                                       (testValues(4 * h, seed: 54), [4 * h]),
                                       (testValues(4 * h * h, seed: 55), [4 * h, h]), (testValues(4 * h * h, seed: 56), [4 * h, h]),
                                       (testValues(4 * h, seed: 57), [4 * h])]) { tape, x in
            let first = tape.lstm(x[0], weightIH: x[1], weightHH: x[2], bias: x[3]).sequence
            let second = tape.lstm(first, weightIH: x[4], weightHH: x[5], bias: x[6]).sequence
            return LastStep().forward(second, tape)
        }
    }

    // MARK: Forward values

    func testOneLSTMStepMatchesTheEquations() {
        // H = 1, I = 1: gates by hand.
        let tape = Tape(mode: .evaluation)
        let x = tape.tensor([0.5], shape: [1, 1, 1])
        let wih = tape.tensor([0.1, 0.2, 0.3, 0.4], shape: [4, 1]), whh = tape.tensor([0.5, 0.6, 0.7, 0.8], shape: [4, 1])
        let bias = tape.tensor([0.01, 0.02, 0.03, 0.04], shape: [4])
        let h0 = tape.tensor([0.9], shape: [1, 1]), c0 = tape.tensor([-0.3], shape: [1, 1])
        let out = tape.lstm(x, weightIH: wih, weightHH: whh, bias: bias, initialHidden: h0, initialCell: c0)
        func s(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        let i = s(0.05 + 0.45 + 0.01), f = s(0.1 + 0.54 + 0.02), g = Foundation.tanh(0.15 + 0.63 + 0.03), o = s(0.2 + 0.72 + 0.04)
        let c = f * -0.3 + i * g
        XCTAssertEqual(Double(out.cell!.item), c, accuracy: 1e-6)
        XCTAssertEqual(Double(out.hidden.item), o * Foundation.tanh(c), accuracy: 1e-6)
        XCTAssertEqual(out.sequence.item, out.hidden.item)
    }

    func testSegmentsWithCarriedStateEqualOnePass() {
        for kind in RecurrentStack.Kind.allCases {
            let stack = RecurrentStack(kind, inputSize: 3, hiddenSize: 4, layers: 2)
            _ = Model(stack, seed: 5)
            let whole = testValues(2 * 6 * 3, seed: 61)
            let tape = Tape(mode: .evaluation)
            let full = stack(tape.tensor(whole, shape: [2, 6, 3]), tape).toArray()
            stack.carriesState = true
            var pieces: [[Float]] = []
            for segment in 0 ..< 2 {
                let part = steps(whole, segment: segment, width: 3)
                tape.reset()
                pieces.append(stack(tape.tensor(part, shape: [2, 3, 3]), tape).toArray())
            }
            for segment in 0 ..< 2 {
                let expected = steps(full, segment: segment, width: 4)
                for (e, g) in zip(expected, pieces[segment]) { XCTAssertEqual(e, g, accuracy: 1e-6, "\(kind) segment \(segment)") }
            }
            // After a reset the next segment starts from zeros again, as the first did.
            stack.resetState()
            tape.reset()
            XCTAssertEqual(stack(tape.tensor(steps(whole, segment: 0, width: 3), shape: [2, 3, 3]), tape).toArray(), pieces[0])
            // The carried state round-trips through a checkpoint value list.
            let saved = stack.carriedState
            XCTAssertEqual(saved.count, 2 * (kind == .lstm ? 2 : 1) * 2 * 4)
            stack.resetState()
            stack.carriedState = saved
            XCTAssertEqual(stack.carriedState, saved)
        }
    }

    /// Steps 3s..<3s+3 of both sequences of a [2, 6, width] buffer.
    private func steps(_ values: [Float], segment: Int, width: Int) -> [Float] {
        var out: [Float] = []
        for n in 0 ..< 2 {
            let start: Int = (n * 6 + segment * 3) * width
            out += values[start ..< start + 3 * width]
        }
        return out
    }

    // MARK: Training

    /// Embedding → recurrent stack → last step → linear, on integer sequences.
    private func sequenceClassifier(_ kind: RecurrentStack.Kind, vocabulary: Int, hidden: Int, classes: Int,
                                    layers: Int = 1) -> (Model, RecurrentStack) {
        let stack = RecurrentStack(kind, inputSize: 4, hiddenSize: hidden, layers: layers)
        let net = Sequential(Embedding(vocabulary: vocabulary, dimension: 4), stack, LastStep(), Linear(hidden, classes))
        return (Model(net, seed: 3), stack)
    }

    func testRecurrentStepAllocatesNothingAfterTheFirstWithCarriedState() throws {
        for kind in RecurrentStack.Kind.allCases {
            let (model, stack) = sequenceClassifier(kind, vocabulary: 5, hidden: 6, classes: 3, layers: 2)
            stack.carriesState = true
            let optimizer = try Adam(parameterCount: model.parameterCount, learningRate: .constant(0.01))
            let tape = Tape()
            let x = (0 ..< 4 * 7).map { Float($0 % 5) }
            func step() {
                tape.reset()
                model.zeroGradients()
                let loss = tape.crossEntropy(model(tape.tensor(x, shape: [4, 7]), tape), labels: [0, 1, 2, 1])
                tape.backward(loss)
                model.clipGradientNorm(1)
                optimizer.step(model)
            }
            step()
            let after = TensorStorage.allocationCount, slots = tape.arenaSlotCount
            for _ in 0 ..< 4 { step() }
            XCTAssertEqual(TensorStorage.allocationCount, after, "\(kind): steps 2..5 allocated storage")
            XCTAssertEqual(tape.arenaSlotCount, slots)
        }
    }

    func testLSTMLearnsToCountOnesExactly() throws {
        // Every binary sequence of length 6; the answer is its number of ones (0...6).
        let length = 6, count = 1 << length
        var x: [Float] = [], labels: [Int32] = []
        for s in 0 ..< count {
            for bit in 0 ..< length { x.append(Float((s >> bit) & 1)) }
            labels.append(Int32(s.nonzeroBitCount))
        }
        let (model, _) = sequenceClassifier(.lstm, vocabulary: 2, hidden: 12, classes: length + 1)
        let optimizer = try Adam(parameterCount: model.parameterCount, learningRate: .constant(0.03))
        let tape = Tape(), evaluation = Tape(mode: .evaluation)
        func correct() -> Int {
            evaluation.reset()
            return model(evaluation.tensor(x, shape: [count, length]), evaluation).countCorrect(labels: labels)
        }
        var step = 0
        while step < 600 && (step % 50 != 0 || correct() < count) {
            tape.reset()
            model.zeroGradients()
            tape.backward(tape.crossEntropy(model(tape.tensor(x, shape: [count, length]), tape), labels: labels))
            model.clipGradientNorm(5)
            optimizer.step(model)
            step += 1
        }
        XCTAssertEqual(correct(), count, "all \(count) sequences counted exactly (after \(step) steps)")
    }
}

import Foundation
