import XCTest
@testable import CohortTensor

/// A training step allocates no tensor storage once the first step has run.
final class AllocationTests: XCTestCase {
    private func assertSteadyState(_ model: Model, _ optimizer: Optimizer, input: Shape, classes: Int,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let tape = Tape()
        let x = testValues(input.count, seed: 3)
        let labels = (0..<input[0]).map { Int32($0 % classes) }
        func step() -> Float {
            tape.reset()
            model.zeroGradients()
            let logits = model(tape.tensor(x, shape: input), tape)
            let loss = tape.crossEntropy(logits, labels: labels)
            tape.backward(loss)
            optimizer.step(model)
            return loss.item
        }
        let first = step()
        let after = TensorStorage.allocationCount
        let slots = tape.arenaSlotCount
        var last = first
        for _ in 2...6 { last = step() }
        XCTAssertEqual(TensorStorage.allocationCount, after, "steps 2..6 allocated storage", file: file, line: line)
        XCTAssertEqual(tape.arenaSlotCount, slots, file: file, line: line)
        XCTAssertLessThan(last, first, "the loss goes down on a fixed batch", file: file, line: line)
    }

    func testMLPStepAllocatesNothingAfterTheFirst() throws {
        let model = Model(try MLP.make(sizes: [12, 16, 16, 3], dropout: 0.1), seed: 1)
        assertSteadyState(model, try SGD(for: model, learningRate: 0.1, momentum: 0.9), input: [8, 12], classes: 3)
    }

    func testCNNStepAllocatesNothingAfterTheFirst() throws {
        let model = Model(try SmallCNN.make(channels: 1, height: 8, width: 8, classes: 4, filters: (3, 4), hidden: 8), seed: 1)
        assertSteadyState(model, try Adam(parameterCount: model.parameterCount, learningRate: .constant(0.01)), input: [4, 1, 8, 8], classes: 4)
    }

    func testResidualStepAllocatesNothingAfterTheFirst() throws {
        let net = Sequential(Conv2d(1, 4, kernel: 3, padding: 1), ResidualBlock(4, 6, stride: 2), GlobalAvgPool(), Linear(6, 3))
        let model = Model(net, seed: 2)
        assertSteadyState(model, try Adam.adamW(parameterCount: model.parameterCount, learningRate: .constant(0.01)), input: [3, 1, 6, 6], classes: 3)
    }

    func testSmallerFinalBatchReusesStorage() throws {
        let model = Model(try MLP.make(sizes: [4, 8, 2]), seed: 1)
        let tape = Tape()
        func step(_ n: Int) {
            tape.reset()
            let y = model(tape.tensor(testValues(n * 4), shape: [n, 4]), tape)
            tape.backward(tape.crossEntropy(y, labels: [Int32](repeating: 1, count: n)))
        }
        step(16)
        let after = TensorStorage.allocationCount
        step(5); step(16); step(5)
        XCTAssertEqual(TensorStorage.allocationCount, after)
    }
}
