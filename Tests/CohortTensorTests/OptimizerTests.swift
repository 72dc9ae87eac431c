import XCTest
@testable import CohortTensor

/// Update rules against values computed by hand (and with an independent script).
final class OptimizerTests: XCTestCase {
    /// Runs `optimizer` for len(gradients) steps on a single parameter starting at 1.
    private func trajectory(_ optimizer: Optimizer, _ gradients: [Float]) -> [Float] {
        var p: [Float] = [1]
        var out: [Float] = []
        for g in gradients {
            let grad: [Float] = [g]
            p.withUnsafeMutableBufferPointer { pb in grad.withUnsafeBufferPointer { optimizer.step(parameters: pb, gradients: $0) } }
            out.append(p[0])
        }
        return out
    }

    private func assertClose(_ a: [Float], _ b: [Double], _ tol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(Double(x), y, accuracy: tol, file: file, line: line) }
    }

    func testPlainSGDAndWeightDecay() throws {
        assertClose(trajectory(try SGD(parameterCount: 1, learningRate: .constant(0.1)), [0.5, 0.5]), [0.95, 0.9])
        // g' = g + 0.1 p: 0.6 → 0.94; 0.5 + 0.094 → 0.94 - 0.0594
        assertClose(trajectory(try SGD(parameterCount: 1, learningRate: .constant(0.1), weightDecay: 0.1), [0.5, 0.5]), [0.94, 0.8806])
    }

    func testMomentumAndNesterov() throws {
        // v1 = 0.5, p = 0.95; v2 = 0.95, p = 0.855
        assertClose(trajectory(try SGD(parameterCount: 1, learningRate: .constant(0.1), momentum: 0.9), [0.5, 0.5]), [0.95, 0.855])
        // step = g + μ v: 0.5 + 0.45 → 0.905; 0.5 + 0.855 → 0.7695
        assertClose(trajectory(try SGD(parameterCount: 1, learningRate: .constant(0.1), momentum: 0.9, nesterov: true), [0.5, 0.5]),
                    [0.905, 0.7695])
    }

    func testAdamAndAdamW() throws {
        let gs: [Float] = [0.5, -1.0, 0.25]
        assertClose(trajectory(try Adam(parameterCount: 1, learningRate: .constant(0.1)), gs),
                    [0.900000002, 0.9366103542405654, 0.9502794203389762], 2e-6)
        assertClose(trajectory(try Adam(parameterCount: 1, learningRate: .constant(0.1), weightDecay: 0.1), gs),
                    [0.9000000016666666, 0.9252635194456061, 0.9247305742687093], 2e-6)
        let adamW = try Adam.adamW(parameterCount: 1, learningRate: .constant(0.1), weightDecay: 0.1)
        XCTAssertEqual(adamW.kind, "adamw")
        assertClose(trajectory(adamW, gs), [0.890000002, 0.9177103542205653, 0.9222023167767704], 2e-6)
        XCTAssertEqual(adamW.stepCount, 3)
    }

    func testSchedules() {
        XCTAssertEqual(LearningRateSchedule.constant(0.3).rate(at: 1000), 0.3)
        let step = LearningRateSchedule.step(rate: 1, every: 10, gamma: 0.5)
        XCTAssertEqual([0, 9, 10, 25].map { step.rate(at: $0) }, [1, 1, 0.5, 0.25])
        let cos = LearningRateSchedule.cosine(rate: 1, totalSteps: 100, minimum: 0.1)
        XCTAssertEqual(cos.rate(at: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 50), 0.55, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 100), 0.1)
        let warm = LearningRateSchedule.warmup(steps: 4, then: cos)
        XCTAssertEqual([0, 1, 3].map { warm.rate(at: $0) }, [0.25, 0.5, 1])
        XCTAssertEqual(warm.rate(at: 54), 0.55, accuracy: 1e-6)
    }

    func testScheduleDrivesTheUpdateSize() throws {
        let sgd = try SGD(parameterCount: 1, learningRate: .step(rate: 0.1, every: 1, gamma: 0.5))
        assertClose(trajectory(sgd, [1, 1, 1]), [0.9, 0.85, 0.825])
        XCTAssertEqual(sgd.currentLearningRate, 0.0125)
    }

    func testInvalidSettingsThrow() {
        XCTAssertThrowsError(try SGD(parameterCount: 1, learningRate: .constant(0.1), momentum: 1.5))
        XCTAssertThrowsError(try SGD(parameterCount: 1, learningRate: .constant(0.1), nesterov: true)) {
            XCTAssertTrue("\($0)".contains("Nesterov"))
        }
        XCTAssertThrowsError(try Adam(parameterCount: 1, learningRate: .constant(0.1), beta1: 1))
    }

    func testStepActsOnTheWholeModel() throws {
        let model = Model(Sequential(Linear(2, 2)), seed: 1)
        let before = model.parameters.toArray()
        for i in 0..<model.gradients.count { model.gradients.flat[i] = Float(i) }
        try SGD(for: model, learningRate: 0.5).step(model)
        XCTAssertEqual(model.parameters.toArray(), zip(before, 0...).map { $0 - 0.5 * Float($1) })
    }
}
