import Foundation

// MARK: - Fast Fourier transform (radix 2)

/// The discrete Fourier transform of power-of-two length along one axis, on split real
/// and imaginary buffers: X[k] = Σ_j x[j] e^{∓2πi jk/n}, times `scale`.
///
/// Iterative decimation in time: the input is put in bit-reversed order, then log2(n)
/// levels combine pairs (a, a + h) with the twiddle e^{∓2πi k/(2h)}. Every level loops
/// innermost over the axes after the transformed one, so transforming the rows of an
/// image (inner = width) runs over contiguous memory. Twiddles are computed in Double.
public struct FFTPlan: Sendable {
    public let length: Int
    let reversed: [Int]
    /// cos and sin of 2πk/n for k < n/2.
    let cosines: [Float], sines: [Float]

    public init(length n: Int) {
        precondition(n > 0 && n & (n - 1) == 0, "the FFT needs a power-of-two length, got \(n)")
        length = n
        reversed = bitReversedOrder(n)
        cosines = (0..<max(n / 2, 1)).map { Float(Foundation.cos(2 * Double.pi * Double($0) / Double(n))) }
        sines = (0..<max(n / 2, 1)).map { Float(Foundation.sin(2 * Double.pi * Double($0) / Double(n))) }
    }

    /// Transforms in place the `outer x inner` vectors of length n laid out as
    /// [outer, n, inner]; `inverse` uses e^{+2πi jk/n}. Multiply by `scale` afterwards
    /// (1/n makes the inverse the exact inverse of the forward transform).
    public func transform(real re: UnsafeMutablePointer<Float>, imag im: UnsafeMutablePointer<Float>,
                          outer: Int, inner: Int, inverse: Bool, scale: Float = 1) {
        let n = length
        let sign: Float = inverse ? 1 : -1
        for o in 0..<outer {
            let r = re + o * n * inner, i = im + o * n * inner
            for a in 0..<n {
                let b = reversed[a]
                if a < b {
                    for t in 0..<inner {
                        swap(&r[a * inner + t], &r[b * inner + t])
                        swap(&i[a * inner + t], &i[b * inner + t])
                    }
                }
            }
            var half = 1
            while half < n {
                let tableStep = n / (2 * half)
                for start in stride(from: 0, to: n, by: 2 * half) {
                    for k in 0..<half {
                        let wr = cosines[k * tableStep], wi = sign * sines[k * tableStep]
                        let pa = (start + k) * inner, pb = (start + k + half) * inner
                        for t in 0..<inner {
                            let br = r[pb + t], bi = i[pb + t]
                            let tr = wr * br - wi * bi, ti = wr * bi + wi * br
                            let ar = r[pa + t], ai = i[pa + t]
                            r[pa + t] = ar + tr; i[pa + t] = ai + ti
                            r[pb + t] = ar - tr; i[pb + t] = ai - ti
                        }
                    }
                }
                half *= 2
            }
            if scale != 1 {
                for j in 0..<(n * inner) { r[j] *= scale; i[j] *= scale }
            }
        }
    }
}

extension Tape {
    /// The DFT of `z` along `axis` (unnormalised), or with `inverse` the exact inverse
    /// (e^{+2πi jk/n} / n). The axis length must be a power of two.
    ///
    /// Backward: the adjoint of F is its conjugate, n·F⁻¹; the adjoint of F⁻¹ is F/n.
    /// So the gradient is the transform of the opposite direction at the same scale.
    public func fft(_ z: ComplexTensor, axis: Int, inverse: Bool = false) -> ComplexTensor {
        let ax = AxisLayout.normalized(axis, rank: z.rank)
        let layout = AxisLayout(z.shape, axis: ax)
        let plan = FFTPlan(length: layout.length)
        let scale: Float = inverse ? 1 / Float(layout.length) : 1
        let recorded = isRecording && z.requiresGrad
        let (pair, y) = complexOutput(z.shape, requiresGrad: recorded)
        let count = z.count
        y.real.pointer.update(from: z.real.pointer, count: count)
        y.imag.pointer.update(from: z.imag.pointer, count: count)
        plan.transform(real: y.real.pointer, imag: y.imag.pointer, outer: layout.outer, inner: layout.inner,
                       inverse: inverse, scale: scale)
        guard recorded else { return y }
        record(pair) { tape in
            let g = tape.grad(pair)
            let gr = tape.scratch(count), gi = tape.scratch(count)
            gr.update(from: g, count: count)
            gi.update(from: g + count, count: count)
            plan.transform(real: gr, imag: gi, outer: layout.outer, inner: layout.inner, inverse: !inverse, scale: scale)
            let (dre, dim) = tape.complexGrads(z)
            if let dre { VectorKernels.addInPlace(dre, gr, count) }
            if let dim { VectorKernels.addInPlace(dim, gi, count) }
        }
        return y
    }
}
