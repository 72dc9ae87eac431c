@testable import CohortTensor
import XCTest

/// The direct stride-1 convolution kernels against im2col + GEMM: forward, input,
/// weight and bias gradients, with 512-bit and 256-bit vectors where the CPU has them.
final class DirectConvolutionTests: XCTestCase {
    override func tearDown() {
        DirectConvolution.limitLanes(16)
        BLASRuntime.setThreads(1)
    }

    struct Case { var n, c, h, w, o, k, pad: Int }
    let cases = [
        Case(n: 2, c: 3, h: 6, w: 5, o: 4, k: 3, pad: 1),    // "same" padding: dY's planes are dW's rows
        Case(n: 3, c: 5, h: 7, w: 9, o: 13, k: 3, pad: 0),   // no padding; 13 channels: a partial block
        Case(n: 2, c: 4, h: 6, w: 6, o: 5, k: 5, pad: 2),
        Case(n: 2, c: 4, h: 9, w: 8, o: 9, k: 5, pad: 1),    // padding less than "same"
        Case(n: 1, c: 2, h: 5, w: 7, o: 3, k: 1, pad: 0),
        Case(n: 4, c: 17, h: 4, w: 4, o: 24, k: 3, pad: 1),  // more taps than one block
        Case(n: 2, c: 1, h: 28, w: 28, o: 8, k: 3, pad: 1),
    ]

    /// y, dX, dW and db of one case for dY = `seed`-derived values, by whatever path runs.
    private func run(_ k: Case) -> [[Float]] {
        let t = Tape()
        let x = t.variable(testValues(k.n * k.c * k.h * k.w, seed: 70), shape: [k.n, k.c, k.h, k.w])
        let weight = t.variable(testValues(k.o * k.c * k.k * k.k, seed: 71), shape: [k.o, k.c, k.k, k.k])
        let bias = t.variable(testValues(k.o, seed: 72), shape: [k.o])
        let y = t.conv2d(x, weight: weight, bias: bias, padding: k.pad)
        let dy = t.tensor(testValues(y.count, seed: 73), shape: y.shape)
        t.backward(t.sum(t.mul(y, dy)))
        return [y.toArray(), x.gradient ?? [], weight.gradient ?? [], bias.gradient ?? []]
    }

    private func assertClose(_ a: [[Float]], _ b: [[Float]], _ label: String) {
        for (name, (u, v)) in zip(["y", "dX", "dW", "db"], zip(a, b)) {
            XCTAssertEqual(u.count, v.count, "\(label) \(name)")
            let scale = Swift.max(1, v.map { Swift.abs($0) }.max() ?? 0)
            let worst = zip(u, v).map { Swift.abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst / scale, 1e-5, "\(label) \(name)")
        }
    }

    func testEveryVectorPathEqualsIm2colAndGemm() throws {
        let widest = DirectConvolution.limitLanes(16)
        try XCTSkipIf(widest == 0, "no vector kernels on this CPU")
        for lanes in [16, 8] where lanes <= widest {
            for k in cases {
                DirectConvolution.limitLanes(0)
                let reference = run(k)
                XCTAssertEqual(DirectConvolution.limitLanes(lanes), lanes)
                let g = ConvGeometry(n: k.n, c: k.c, h: k.h, w: k.w, kh: k.k, kw: k.k, stride: 1, padding: k.pad)
                XCTAssertTrue(DirectConvolution.applies(to: g, outputs: k.o))
                assertClose(run(k), reference, "\(lanes) lanes, \(k)")
            }
        }
    }

    func testStridesAndWidePaddingTakeIm2col() {
        let g = ConvGeometry(n: 1, c: 1, h: 8, w: 8, kh: 3, kw: 3, stride: 2, padding: 1)
        XCTAssertFalse(DirectConvolution.applies(to: g, outputs: 1))
        let wide = ConvGeometry(n: 1, c: 1, h: 8, w: 8, kh: 3, kw: 3, stride: 1, padding: 3)
        XCTAssertFalse(DirectConvolution.applies(to: wide, outputs: 1))
    }

    func testResultsAreBitIdenticalOnOneAndTwoThreads() throws {
        try XCTSkipIf(DirectConvolution.limitLanes(16) == 0, "no vector kernels on this CPU")
        let k = Case(n: 6, c: 8, h: 10, w: 10, o: 16, k: 3, pad: 1)
        BLASRuntime.setThreads(1)
        let one = run(k)
        BLASRuntime.setThreads(2)
        XCTAssertEqual(run(k), one)
    }
}
