import Foundation
import XCTest
@testable import CohortTensor

/// Gather, FFT, butterfly, complex channel mixing and 1-D convolution: values against
/// direct formulas, backward rules against finite differences.
final class SpectralOpTests: XCTestCase {
    let checker = GradientChecker()

    /// Both parts of a complex result in one real tensor, so the checker weighs each.
    private func joined(_ t: Tape, _ z: ComplexTensor) -> Tensor {
        t.concat([t.reshape(z.real, [-1]), t.reshape(z.imag, [-1])], axis: 0)
    }

    /// The DFT by its definition, in Double, along the last axis of [rows, n].
    private func naiveDFT(_ re: [Float], _ im: [Float], n: Int, inverse: Bool) -> ([Float], [Float]) {
        let rows = re.count / n
        var outRe = [Float](repeating: 0, count: re.count), outIm = outRe
        let sign = inverse ? 1.0 : -1.0
        for r in 0..<rows { for k in 0..<n {
            var sr = 0.0, si = 0.0
            for j in 0..<n {
                let a = sign * 2 * Double.pi * Double(j * k) / Double(n)
                let xr = Double(re[r * n + j]), xi = Double(im[r * n + j])
                sr += xr * cos(a) - xi * sin(a)
                si += xr * sin(a) + xi * cos(a)
            }
            let scale = inverse ? 1 / Double(n) : 1
            outRe[r * n + k] = Float(sr * scale)
            outIm[r * n + k] = Float(si * scale)
        } }
        return (outRe, outIm)
    }

    // MARK: Gather

    func testGatherIndexTables() {
        XCTAssertEqual(GatherIndex.padding(length: 3, before: 2, after: 1, mode: .zero).source, [-1, -1, 0, 1, 2, -1])
        XCTAssertEqual(GatherIndex.padding(length: 3, before: 2, after: 2, mode: .circular).source, [1, 2, 0, 1, 2, 0, 1])
        XCTAssertEqual(GatherIndex.slice(length: 9, start: 1, count: 3, step: 3).source, [1, 4, 7])
        XCTAssertEqual(bitReversedOrder(8), [0, 4, 2, 6, 1, 5, 3, 7])
        let t = Tape()
        let x = t.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(t.pad(x, axis: 1, before: 1, after: 1, mode: .circular).toArray(), [3, 1, 2, 3, 1, 6, 4, 5, 6, 4])
        XCTAssertEqual(t.pad(x, axis: 0, before: 0, after: 1).toArray(), [1, 2, 3, 4, 5, 6, 0, 0, 0])
    }

    func testGatherGradients() {
        let x = testValues(24, seed: 31)
        checker.check("zero pad axis 2", [(x, [2, 3, 4])]) { t, v in t.pad(v[0], axis: 2, before: 2, after: 3) }
        checker.check("circular pad axis 1", [(x, [2, 3, 4])]) { t, v in t.pad(v[0], axis: 1, before: 2, after: 4, mode: .circular) }
        checker.check("bit reversal", [(x, [3, 8])]) { t, v in t.gather(v[0], axis: 1, .bitReversal(length: 8)) }
        checker.check("strided crop", [(x, [2, 12])]) { t, v in t.gather(v[0], axis: -1, .slice(length: 12, start: 1, count: 4, step: 3)) }
    }

    // MARK: FFT

    func testFFTMatchesTheDefinitionAndInverts() {
        for n in [1, 2, 8, 32] {
            let re = testValues(3 * n, seed: 41), im = testValues(3 * n, seed: 42)
            for inverse in [false, true] {
                let t = Tape()
                let y = t.fft(ComplexTensor(real: t.tensor(re, shape: [3, n]), imag: t.tensor(im, shape: [3, n])), axis: 1, inverse: inverse)
                let (er, ei) = naiveDFT(re, im, n: n, inverse: inverse)
                for i in 0..<(3 * n) {
                    XCTAssertEqual(y.real.pointer[i], er[i], accuracy: 1e-4 * Float(n), "n=\(n) inverse=\(inverse)")
                    XCTAssertEqual(y.imag.pointer[i], ei[i], accuracy: 1e-4 * Float(n), "n=\(n) inverse=\(inverse)")
                }
                let back = t.fft(y, axis: 1, inverse: !inverse)
                for i in 0..<(3 * n) { XCTAssertEqual(back.real.pointer[i], re[i], accuracy: 1e-5) }
            }
        }
    }

    func testFFTAlongAnInnerAxisEqualsTransposedTransform() {
        // [2, 8, 3] along axis 1 equals the rows of its [2, 3, 8] transpose.
        let re = testValues(48, seed: 43)
        let t = Tape()
        let x = t.tensor(re, shape: [2, 8, 3])
        let y = t.fft(t.complex(real: x), axis: 1)
        let xt = t.permute(x, [0, 2, 1])
        let yt = t.fft(t.complex(real: xt), axis: 2)
        let back = t.permute(yt.imag, [0, 2, 1]).toArray()
        for (a, b) in zip(y.imag.toArray(), back) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testFFTGradients() {
        let re = testValues(16, seed: 44), im = testValues(16, seed: 45)
        for inverse in [false, true] {
            checker.check("fft last axis inverse=\(inverse)", [(re, [2, 8]), (im, [2, 8])]) { t, v in
                self.joined(t, t.fft(ComplexTensor(real: v[0], imag: v[1]), axis: 1, inverse: inverse))
            }
            checker.check("fft first axis inverse=\(inverse)", [(re, [4, 2, 2]), (im, [4, 2, 2])]) { t, v in
                self.joined(t, t.fft(ComplexTensor(real: v[0], imag: v[1]), axis: 0, inverse: inverse))
            }
        }
        checker.check("real fft", [(re, [2, 8])]) { t, v in self.joined(t, t.fft(t.complex(real: v[0]), axis: 1)) }
    }

    // MARK: Butterfly

    func testButterflyWithFourierTwiddlesIsTheFFT() {
        for (n, depth) in [(2, 1), (8, 1), (16, 3), (32, 2)] {
            let layout = ButterflyLayout(length: n, depth: depth)
            let re = testValues(2 * n, seed: 51), im = testValues(2 * n, seed: 52)
            for inverse in [false, true] {
                let t = Tape()
                let z = ComplexTensor(real: t.tensor(re, shape: [2, n]), imag: t.tensor(im, shape: [2, n]))
                let twiddles = t.tensor(layout.fourierTwiddles(inverse: inverse), shape: [layout.twiddleCount])
                let viaButterfly = t.butterfly(t.gather(z, axis: 1, .bitReversal(length: n)), axis: 1, twiddles: twiddles, layout: layout)
                let direct = t.fft(z, axis: 1, inverse: inverse)
                for i in 0..<(2 * n) {
                    XCTAssertEqual(viaButterfly.real.pointer[i], direct.real.pointer[i], accuracy: 1e-5, "n=\(n) depth=\(depth)")
                    XCTAssertEqual(viaButterfly.imag.pointer[i], direct.imag.pointer[i], accuracy: 1e-5, "n=\(n) depth=\(depth)")
                }
            }
        }
    }

    func testButterflyGradientsInInputAndTwiddles() {
        for (increasing, depth, axis) in [(true, 1, 1), (false, 2, 1), (true, 2, 0)] {
            let layout = ButterflyLayout(length: 4, depth: depth, firstIncreasing: increasing)
            let shape: Shape = axis == 1 ? [3, 4] : [4, 3]
            let twiddles = testValues(layout.twiddleCount, seed: 53)
            checker.check("butterfly increasing=\(increasing) depth=\(depth) axis=\(axis)",
                          [(testValues(12, seed: 54), shape), (testValues(12, seed: 55), shape), (twiddles, [layout.twiddleCount])]) { t, v in
                self.joined(t, t.butterfly(ComplexTensor(real: v[0], imag: v[1]), axis: axis, twiddles: v[2], layout: layout))
            }
        }
    }

    // MARK: Channel mixing

    func testComplexChannelMixValuesAndGradients() {
        let t = Tape()
        // One batch, two inputs, one output, one frequency: (1+2i)(3-i) + (0+1i)(2+2i) = 5+5i + (-2+2i).
        let x = ComplexTensor(real: t.tensor([1, 0], shape: [1, 2, 1]), imag: t.tensor([2, 1], shape: [1, 2, 1]))
        let w = ComplexTensor(real: t.tensor([3, 2], shape: [1, 2, 1]), imag: t.tensor([-1, 2], shape: [1, 2, 1]))
        let y = t.complexChannelMix(x, w)
        XCTAssertEqual(y.real.toArray(), [3])
        XCTAssertEqual(y.imag.toArray(), [7])
        checker.check("channel mix", [(testValues(12, seed: 61), [2, 2, 3]), (testValues(12, seed: 62), [2, 2, 3]),
                                      (testValues(18, seed: 63), [3, 2, 3]), (testValues(18, seed: 64), [3, 2, 3])]) { t, v in
            self.joined(t, t.complexChannelMix(ComplexTensor(real: v[0], imag: v[1]), ComplexTensor(real: v[2], imag: v[3])))
        }
        // Wide channels take the per-frequency GEMM path: same values, same gradients.
        let (b, i, o, f) = (2, 8, 9, 3)
        let xr = testValues(b * i * f, seed: 65), xi = testValues(b * i * f, seed: 66)
        let wr = testValues(o * i * f, seed: 67), wi = testValues(o * i * f, seed: 68)
        let direct = Tape()
        var expected = ([Float](repeating: 0, count: b * o * f), [Float](repeating: 0, count: b * o * f))
        for bb in 0..<b { for oo in 0..<o { for ii in 0..<i { for ff in 0..<f {
            let x = (xr[(bb * i + ii) * f + ff], xi[(bb * i + ii) * f + ff]), w = (wr[(oo * i + ii) * f + ff], wi[(oo * i + ii) * f + ff])
            expected.0[(bb * o + oo) * f + ff] += x.0 * w.0 - x.1 * w.1
            expected.1[(bb * o + oo) * f + ff] += x.0 * w.1 + x.1 * w.0
        } } } }
        let wide = direct.complexChannelMix(ComplexTensor(real: direct.tensor(xr, shape: [b, i, f]), imag: direct.tensor(xi, shape: [b, i, f])),
                                            ComplexTensor(real: direct.tensor(wr, shape: [o, i, f]), imag: direct.tensor(wi, shape: [o, i, f])))
        for k in 0..<(b * o * f) {
            XCTAssertEqual(wide.real.pointer[k], expected.0[k], accuracy: 1e-5)
            XCTAssertEqual(wide.imag.pointer[k], expected.1[k], accuracy: 1e-5)
        }
        checker.check("channel mix by frequency", [(xr, [b, i, f]), (xi, [b, i, f]), (wr, [o, i, f]), (wi, [o, i, f])]) { t, v in
            self.joined(t, t.complexChannelMix(ComplexTensor(real: v[0], imag: v[1]), ComplexTensor(real: v[2], imag: v[3])))
        }
    }

    // MARK: 1-D convolution

    func testConv1dValuesAndGradients() {
        let t = Tape()
        // [1, 2, 3, 4] with kernel [1, 0, -1], padding 1: x[t-1] - x[t+1].
        let y = t.conv1d(t.tensor([1, 2, 3, 4], shape: [1, 1, 4]), weight: t.tensor([1, 0, -1], shape: [1, 1, 3]),
                         bias: t.tensor([0.5], shape: [1]), padding: 1)
        XCTAssertEqual(y.toArray(), [-1.5, -1.5, -1.5, 3.5])
        for (stride, padding) in [(1, 0), (1, 2), (2, 1)] {
            checker.check("conv1d s\(stride) p\(padding)", [(testValues(24, seed: 71), [2, 2, 6]), (testValues(18, seed: 72), [3, 2, 3]),
                                                          (testValues(3, seed: 73), [3])]) { t, v in
                t.conv1d(v[0], weight: v[1], bias: v[2], stride: stride, padding: padding)
            }
        }
    }

    // MARK: Parameter groups

    func testParameterGroupsAreContiguousAndSteppedByTheirOwnOptimizer() throws {
        final class TwoGroups: Module {
            let a = Parameter([2], initializer: .ones)
            let arch = Parameter([3], initializer: .ones, group: "architecture")
            let b = Parameter([1], initializer: .ones)
            func forward(_ x: Tensor, _ tape: Tape) -> Tensor { x }
            var members: [ModuleMember] { [.parameter("a", a), .parameter("arch", arch), .parameter("b", b)] }
        }
        let model = Model(TwoGroups(), seed: 1)
        XCTAssertEqual(model.parameters.entries.map(\.name), ["a", "b", "arch"])
        XCTAssertEqual(model.groupRanges[""], 0..<3)
        XCTAssertEqual(model.groupRanges["architecture"], 3..<6)
        for i in 0..<6 { model.gradients.flat[i] = 1 }
        let weights = try SGD(parameterCount: 3, learningRate: .constant(0.5))
        let arch = try SGD(parameterCount: 3, learningRate: .constant(0.25))
        let grouped = try GroupedOptimizer([(model.groupRanges[""]!, weights), (model.groupRanges["architecture"]!, arch)])
        grouped.step(model)
        XCTAssertEqual(model.parameters.toArray(), [0.5, 0.5, 0.5, 0.75, 0.75, 0.75])
        XCTAssertEqual(grouped.stepCount, 1)
        XCTAssertThrowsError(try GroupedOptimizer([(0..<3, weights), (2..<5, arch)]))
    }
}
