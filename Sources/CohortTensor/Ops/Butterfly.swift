import Foundation

// MARK: - Butterfly (K-matrix) multiply

/// The shape of a stack of butterfly matrices of size n (a power of two).
///
/// One butterfly block has log2(n) levels; a level mixes every pair (j, j + s) with a
/// 2x2 complex factor of its own, [y_j; y_{j+s}] = [[a, b], [c, d]] [x_j; x_{j+s}].
/// Strides grow 1, 2, ..., n/2 in an increasing block and shrink in a decreasing one;
/// stacked blocks alternate, starting as `firstIncreasing` says. Factors are stored as
/// 8 floats (a, b, c, d as real, imaginary) per pair, level after level.
public struct ButterflyLayout: Sendable, Equatable {
    public let length: Int
    public let depth: Int
    public let firstIncreasing: Bool

    public init(length: Int, depth: Int = 1, firstIncreasing: Bool = true) {
        precondition(length >= 2 && length & (length - 1) == 0, "a butterfly needs a power-of-two size of at least 2, got \(length)")
        precondition(depth >= 1, "a butterfly stack needs at least one block")
        self.length = length
        self.depth = depth
        self.firstIncreasing = firstIncreasing
    }

    public var levelsPerBlock: Int { length.trailingZeroBitCount }
    public var levels: Int { depth * levelsPerBlock }
    public var pairs: Int { length / 2 }
    /// Floats of twiddle factors for the whole stack.
    public var twiddleCount: Int { levels * pairs * 8 }

    /// The pair distance of level `k` of the stack.
    func stride(ofLevel k: Int) -> Int {
        let block = k / levelsPerBlock, l = k % levelsPerBlock
        let increasing = (block % 2 == 0) == firstIncreasing
        return increasing ? 1 << l : length >> (l + 1)
    }

    /// The first index of pair `p` at pair distance `s`.
    @inline(__always)
    static func firstIndex(pair p: Int, stride s: Int) -> Int { (p / s) * 2 * s + p % s }

    /// Factors that make the stack the DFT of bit-reversed input (or, with `inverse`,
    /// the exact inverse DFT): the first block's level with stride h holds
    /// [[1, ω^k], [1, -ω^k]], ω = e^{∓πi/h}, k = j mod h (halved for the inverse, so
    /// the stack divides by n); later blocks hold the identity. Needs an increasing
    /// first block.
    public func fourierTwiddles(inverse: Bool = false) -> [Float] {
        precondition(firstIncreasing, "the Fourier initialisation needs an increasing first block")
        var t = [Float](repeating: 0, count: twiddleCount)
        let sign = inverse ? 1.0 : -1.0
        let half: Float = inverse ? 0.5 : 1
        for k in 0..<levels {
            let s = stride(ofLevel: k)
            for p in 0..<pairs {
                let o = (k * pairs + p) * 8
                if k < levelsPerBlock {
                    let j = ButterflyLayout.firstIndex(pair: p, stride: s)
                    let angle = sign * Double.pi * Double(j % s) / Double(s)
                    let wr = Float(Foundation.cos(angle)), wi = Float(Foundation.sin(angle))
                    t[o] = half; t[o + 2] = half * wr; t[o + 3] = half * wi
                    t[o + 4] = half; t[o + 6] = -half * wr; t[o + 7] = -half * wi
                } else {
                    t[o] = 1; t[o + 6] = 1
                }
            }
        }
        return t
    }
}

extension Tape {
    /// The butterfly stack `layout` with factors `twiddles` applied to `z` along `axis`.
    ///
    /// Backward, level by level from the last: with G the incoming gradient of a pair
    /// and X the level's saved input, gx_j = conj(a) G_j + conj(c) G_{j+s},
    /// gx_{j+s} = conj(b) G_j + conj(d) G_{j+s}, and the factors gain G conj(X):
    /// da += G_j conj(X_j), db += G_j conj(X_{j+s}), dc += G_{j+s} conj(X_j),
    /// dd += G_{j+s} conj(X_{j+s}), summed over every vector the axis holds.
    public func butterfly(_ z: ComplexTensor, axis: Int, twiddles: Tensor, layout: ButterflyLayout) -> ComplexTensor {
        let ax = AxisLayout.normalized(axis, rank: z.rank)
        let shape = AxisLayout(z.shape, axis: ax)
        precondition(shape.length == layout.length, "butterfly of size \(layout.length) along axis \(axis) of \(z.shape)")
        precondition(twiddles.count == layout.twiddleCount, "butterfly needs \(layout.twiddleCount) twiddle values, got \(twiddles.count)")
        let count = z.count, levels = layout.levels
        let recorded = isRecording && (z.requiresGrad || twiddles.requiresGrad)
        let (pair, y) = complexOutput(z.shape, requiresGrad: recorded)
        // Inputs of every level after the first, kept for backward (level 0 reads z);
        // without a backward pass two buffers take turns.
        let kept = recorded ? levels - 1 : min(levels - 1, 2)
        let saved = levels > 1 ? scratch(kept * 2 * count) : y.real.pointer
        var srcRe = UnsafePointer(z.real.pointer), srcIm = UnsafePointer(z.imag.pointer)
        for k in 0..<levels {
            let last = k == levels - 1
            let slot = recorded ? k : k % 2
            let dstRe = last ? y.real.pointer : saved + slot * 2 * count
            let dstIm = last ? y.imag.pointer : saved + slot * 2 * count + count
            butterflyLevel(shape, layout: layout, level: k, twiddles: twiddles.pointer,
                           srcRe: srcRe, srcIm: srcIm, dstRe: dstRe, dstIm: dstIm)
            srcRe = UnsafePointer(dstRe); srcIm = UnsafePointer(dstIm)
        }
        guard recorded else { return y }
        record(pair) { tape in
            let g = tape.grad(pair)
            var gRe = tape.scratch(count), gIm = tape.scratch(count)
            var hRe = tape.scratch(count), hIm = tape.scratch(count)
            gRe.update(from: g, count: count)
            gIm.update(from: g + count, count: count)
            let dTwiddles = twiddles.requiresGrad ? tape.grad(twiddles) : nil
            for k in stride(from: levels - 1, through: 0, by: -1) {
                let xRe = k == 0 ? UnsafePointer(z.real.pointer) : UnsafePointer(saved + (k - 1) * 2 * count)
                let xIm = k == 0 ? UnsafePointer(z.imag.pointer) : UnsafePointer(saved + (k - 1) * 2 * count + count)
                butterflyLevelBackward(shape, layout: layout, level: k, twiddles: twiddles.pointer, dTwiddles: dTwiddles,
                                       xRe: xRe, xIm: xIm, gRe: gRe, gIm: gIm, dxRe: hRe, dxIm: hIm)
                swap(&gRe, &hRe); swap(&gIm, &hIm)
            }
            let (dre, dim) = tape.complexGrads(z)
            if let dre { VectorKernels.addInPlace(dre, gRe, count) }
            if let dim { VectorKernels.addInPlace(dim, gIm, count) }
        }
        return y
    }
}

/// One level of a butterfly stack, out of place.
private func butterflyLevel(_ shape: AxisLayout, layout: ButterflyLayout, level k: Int, twiddles: UnsafePointer<Float>,
                            srcRe: UnsafePointer<Float>, srcIm: UnsafePointer<Float>,
                            dstRe: UnsafeMutablePointer<Float>, dstIm: UnsafeMutablePointer<Float>) {
    let n = layout.length, inner = shape.inner, s = layout.stride(ofLevel: k)
    let tw = twiddles + k * layout.pairs * 8
    for o in 0..<shape.outer {
        let base = o * n * inner
        for p in 0..<layout.pairs {
            let f = tw + p * 8
            let ar = f[0], ai = f[1], br = f[2], bi = f[3], cr = f[4], ci = f[5], dr = f[6], di = f[7]
            let j = ButterflyLayout.firstIndex(pair: p, stride: s)
            let r1 = base + j * inner, r2 = base + (j + s) * inner
            for t in 0..<inner {
                let x1r = srcRe[r1 + t], x1i = srcIm[r1 + t], x2r = srcRe[r2 + t], x2i = srcIm[r2 + t]
                dstRe[r1 + t] = ar * x1r - ai * x1i + br * x2r - bi * x2i
                dstIm[r1 + t] = ar * x1i + ai * x1r + br * x2i + bi * x2r
                dstRe[r2 + t] = cr * x1r - ci * x1i + dr * x2r - di * x2i
                dstIm[r2 + t] = cr * x1i + ci * x1r + dr * x2i + di * x2r
            }
        }
    }
}

/// The adjoint of one level: input gradient into `dx`, factor gradients added to
/// `dTwiddles`. Vectors are visited in order (pairs innermost) so memory is read once,
/// front to back; factor gradients sum in that fixed order.
private func butterflyLevelBackward(_ shape: AxisLayout, layout: ButterflyLayout, level k: Int,
                                    twiddles: UnsafePointer<Float>, dTwiddles: UnsafeMutablePointer<Float>?,
                                    xRe: UnsafePointer<Float>, xIm: UnsafePointer<Float>,
                                    gRe: UnsafePointer<Float>, gIm: UnsafePointer<Float>,
                                    dxRe: UnsafeMutablePointer<Float>, dxIm: UnsafeMutablePointer<Float>) {
    let n = layout.length, inner = shape.inner, s = layout.stride(ofLevel: k)
    let tw = twiddles + k * layout.pairs * 8
    let dtw = dTwiddles.map { $0 + k * layout.pairs * 8 }
    for o in 0..<shape.outer {
        let base = o * n * inner
        for p in 0..<layout.pairs {
            let f = tw + p * 8
            let ar = f[0], ai = f[1], br = f[2], bi = f[3], cr = f[4], ci = f[5], dr = f[6], di = f[7]
            let j = ButterflyLayout.firstIndex(pair: p, stride: s)
            let r1 = base + j * inner, r2 = r1 + s * inner
            var da = (Float(0), Float(0)), db = (Float(0), Float(0)), dc = (Float(0), Float(0)), dd = (Float(0), Float(0))
            for t in 0..<inner {
                let g1r = gRe[r1 + t], g1i = gIm[r1 + t], g2r = gRe[r2 + t], g2i = gIm[r2 + t]
                dxRe[r1 + t] = ar * g1r + ai * g1i + cr * g2r + ci * g2i
                dxIm[r1 + t] = ar * g1i - ai * g1r + cr * g2i - ci * g2r
                dxRe[r2 + t] = br * g1r + bi * g1i + dr * g2r + di * g2i
                dxIm[r2 + t] = br * g1i - bi * g1r + dr * g2i - di * g2r
                if dtw != nil {
                    let x1r = xRe[r1 + t], x1i = xIm[r1 + t], x2r = xRe[r2 + t], x2i = xIm[r2 + t]
                    da.0 += g1r * x1r + g1i * x1i; da.1 += g1i * x1r - g1r * x1i
                    db.0 += g1r * x2r + g1i * x2i; db.1 += g1i * x2r - g1r * x2i
                    dc.0 += g2r * x1r + g2i * x1i; dc.1 += g2i * x1r - g2r * x1i
                    dd.0 += g2r * x2r + g2i * x2i; dd.1 += g2i * x2r - g2r * x2i
                }
            }
            if let dtw {
                let d = dtw + p * 8
                d[0] += da.0; d[1] += da.1; d[2] += db.0; d[3] += db.1
                d[4] += dc.0; d[5] += dc.1; d[6] += dd.0; d[7] += dd.1
            }
        }
    }
}
