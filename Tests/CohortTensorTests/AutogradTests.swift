import XCTest
@testable import CohortTensor

/// The tape's bookkeeping: accumulation, zeroing, no-grad scopes, fan-out, views.
final class AutogradTests: XCTestCase {
    func testFanOutSumsBothPaths() {
        let t = Tape()
        let x = t.variable([3], shape: [1])
        let y = t.add(t.mul(x, x), t.mul(x, 2))   // x² + 2x → 2x + 2 = 8
        t.backward(t.sum(y))
        XCTAssertEqual(x.gradient, [8])
    }

    func testGradientsAccumulateAcrossBackwardPassesUntilZeroed() throws {
        let model = Model(Sequential(Linear(2, 1)), seed: 1)
        let t = Tape()
        func pass() {
            let loss = t.sum(model(t.tensor([1, 2], shape: [1, 2]), t))
            t.backward(loss)
        }
        pass()
        let once = model.gradients.toArray()
        XCTAssertEqual(once, [1, 2, 1], "d/dW = x, d/db = 1")
        pass()
        XCTAssertEqual(model.gradients.toArray(), once.map { $0 * 2 }, "a second backward adds")
        model.zeroGradients()
        XCTAssertEqual(model.gradients.toArray(), [0, 0, 0])
        t.reset()
        pass()
        XCTAssertEqual(model.gradients.toArray(), once)
    }

    func testNoGradScopeRecordsNothing() {
        let model = Model(Sequential(Linear(3, 2), Activation(.relu)), seed: 2)
        let t = Tape()
        let y = t.withoutGradients { model(t.tensor([1, 2, 3], shape: [1, 3]), t) }
        XCTAssertEqual(t.recordedCount, 0)
        XCTAssertFalse(y.requiresGrad)
        let z = model(t.tensor([1, 2, 3], shape: [1, 3]), t)
        XCTAssertTrue(z.requiresGrad)
        XCTAssertEqual(t.recordedCount, 2)
        XCTAssertEqual(y.toArray(), z.toArray())
    }

    func testBackwardConsumesTheRecordedOps() {
        let t = Tape()
        let x = t.variable([1, 2], shape: [2])
        t.backward(t.sum(t.mul(x, 3)))
        XCTAssertEqual(t.recordedCount, 0)
        XCTAssertEqual(x.gradient, [3, 3])
    }

    func testViewsShareGradientWithTheirBase() {
        let t = Tape()
        let x = t.variable([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let r = t.reshape(x, [3, 2])
        let s = t.slice(x, axis: 0, 1..<2)
        t.backward(t.add(t.sum(t.mul(r, 2)), t.sum(s)))
        XCTAssertEqual(x.gradient, [2, 2, 2, 3, 3, 3])
        XCTAssertTrue(r.storage === x.storage, "reshape does not copy")
    }

    func testSeededBackwardFromNonScalar() {
        let t = Tape()
        let x = t.variable([1, 2], shape: [2])
        t.backward(t.mul(x, x), seed: [1, 10])
        XCTAssertEqual(x.gradient, [2, 40])
    }

    func testInputGradientOnEvaluationTape() {
        let model = Model(Sequential(Linear(2, 1, bias: false)), seed: 3)
        let t = Tape(mode: .evaluation, recordsGradients: true)
        let x = t.variable([1, 1], shape: [1, 2])
        t.backward(t.sum(model(x, t)))
        XCTAssertEqual(x.gradient, model.parameters.toArray(), "d(x·w)/dx = w")
    }
}
