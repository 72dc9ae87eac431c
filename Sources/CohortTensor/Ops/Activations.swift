import Foundation

// MARK: - Activations
// Each backward uses whichever of input x or output y gives the cheapest derivative.

extension Tape {
    /// max(x, 0); the derivative is taken as 0 at 0.
    public func relu(_ x: Tensor) -> Tensor {
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer, n = x.count
        VectorKernels.relu(xp, yp, n)
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), (dx, fresh) = tape.gradForOverwrite(x)
            VectorKernels.reluBackward(g, yp, dx, n, overwrite: fresh)
        }
        return y
    }

    /// tanh(x); dy/dx = 1 - y².
    public func tanh(_ x: Tensor) -> Tensor {
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer, n = x.count
        for i in 0..<n { yp[i] = Foundation.tanh(xp[i]) }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            for i in 0..<n { dx[i] += g[i] * (1 - yp[i] * yp[i]) }
        }
        return y
    }

    /// 1 / (1 + e^-x); dy/dx = y (1 - y).
    public func sigmoid(_ x: Tensor) -> Tensor {
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer, n = x.count
        for i in 0..<n { yp[i] = 1 / (1 + Foundation.exp(-xp[i])) }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            for i in 0..<n { dx[i] += g[i] * yp[i] * (1 - yp[i]) }
        }
        return y
    }

    /// Exact GELU, x·Φ(x) with Φ the standard normal CDF; dy/dx = Φ(x) + x·φ(x).
    public func gelu(_ x: Tensor) -> Tensor {
        let recorded = needsGrad(x)
        let y = output(x.shape, requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer, n = x.count
        let invSqrt2: Float = 0.70710678118654752
        for i in 0..<n { yp[i] = 0.5 * xp[i] * (1 + erff(xp[i] * invSqrt2)) }
        guard recorded else { return y }
        record(y) { tape in
            let g = tape.grad(y), dx = tape.grad(x)
            let invSqrt2Pi: Float = 0.39894228040143268
            for i in 0..<n {
                let v = xp[i]
                let cdf = 0.5 * (1 + erff(v * invSqrt2))
                let pdf = invSqrt2Pi * Foundation.exp(-0.5 * v * v)
                dx[i] += g[i] * (cdf + v * pdf)
            }
        }
        return y
    }
}
