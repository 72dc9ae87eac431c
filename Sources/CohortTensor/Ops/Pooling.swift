// MARK: - Pooling over NCHW planes

extension Tape {
    /// Maximum over each `kernel`×`kernel` window (padding counts as -∞). Backward sends
    /// each output's gradient to the input position that won (first one on ties).
    public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let g = poolGeometry(x, kernel, stride ?? kernel, padding, "maxPool2d")
        if g.kh == 2 && g.stride == 2 && g.padding == 0 && g.h % 2 == 0 && g.w % 2 == 0 {
            return maxPool2x2(x, g)
        }
        let planes = g.n * g.c, plane = g.h * g.w, p = g.positions
        let recorded = needsGrad(x)
        let y = output([g.n, g.c, g.oh, g.ow], requiresGrad: recorded)
        let winners = scratchIndices(planes * p)
        for pl in 0..<planes {
            let src = x.pointer + pl * plane, dst = y.pointer + pl * p, win = winners + pl * p
            for oy in 0..<g.oh { for ox in 0..<g.ow {
                var best = -Float.infinity, at: Int32 = -1
                let y0 = oy * g.stride - g.padding, x0 = ox * g.stride - g.padding
                for ky in Swift.max(0, y0)..<Swift.min(g.h, y0 + g.kh) {
                    for kx in Swift.max(0, x0)..<Swift.min(g.w, x0 + g.kw) {
                        let v = src[ky * g.w + kx]
                        if v > best || at < 0 { best = v; at = Int32(ky * g.w + kx) }
                    }
                }
                dst[oy * g.ow + ox] = best
                win[oy * g.ow + ox] = at
            } }
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y), dx = tape.grad(x)
            for pl in 0..<planes {
                let d = dx + pl * plane, gr = dy + pl * p, win = winners + pl * p
                for i in 0..<p where win[i] >= 0 { d[Int(win[i])] += gr[i] }
            }
        }
        return y
    }

    /// The common 2x2, stride-2 case on even planes, where windows tile the input. The
    /// forward is vectorized (max of the even and odd lanes of two rows); the backward
    /// finds each window's winner by comparing with the output (first in row-major order
    /// on ties, like the general path) and writes every input position, so its gradient
    /// buffer needs no zeroing.
    private func maxPool2x2(_ x: Tensor, _ g: ConvGeometry) -> Tensor {
        let planes = g.n * g.c, w = g.w, ow = g.ow, oh = g.oh
        let recorded = needsGrad(x)
        let y = output([g.n, g.c, oh, ow], requiresGrad: recorded)
        let xp = x.pointer, yp = y.pointer
        for row in 0..<(planes * oh) {   // one output row per (plane, oy)
            let r0 = xp + 2 * row * w, r1 = r0 + w, out = yp + row * ow
            var ox = 0
            while ox + 8 <= ow {
                let a = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                let b = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                let m = pointwiseMax(pointwiseMax(a.evenHalf, a.oddHalf), pointwiseMax(b.evenHalf, b.oddHalf))
                UnsafeMutableRawPointer(out + ox).storeBytes(of: m, as: SIMD8<Float>.self)
                ox += 8
            }
            while ox < ow {
                out[ox] = Swift.max(Swift.max(r0[2 * ox], r0[2 * ox + 1]), Swift.max(r1[2 * ox], r1[2 * ox + 1]))
                ox += 1
            }
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y)
            let (dx, fresh) = tape.gradForOverwrite(x)
            for row in 0..<(planes * oh) {
                let r0 = xp + 2 * row * w, r1 = r0 + w, d0 = dx + 2 * row * w, d1 = d0 + w
                let out = yp + row * ow, gr = dy + row * ow
                for ox in 0..<ow {
                    let c = 2 * ox, m = out[ox], gv = gr[ox]
                    let wa = r0[c] == m
                    let wb = !wa && r0[c + 1] == m
                    let wc = !wa && !wb && r1[c] == m
                    let wd = !wa && !wb && !wc
                    if fresh {
                        d0[c] = wa ? gv : 0; d0[c + 1] = wb ? gv : 0
                        d1[c] = wc ? gv : 0; d1[c + 1] = wd ? gv : 0
                    } else {
                        d0[c] += wa ? gv : 0; d0[c + 1] += wb ? gv : 0
                        d1[c] += wc ? gv : 0; d1[c + 1] += wd ? gv : 0
                    }
                }
            }
        }
        return y
    }

    /// Mean over each window; padded positions count as zeros in the divisor k·k.
    public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let g = poolGeometry(x, kernel, stride ?? kernel, padding, "avgPool2d")
        let planes = g.n * g.c, plane = g.h * g.w, p = g.positions
        let inv = 1 / Float(g.kh * g.kw)
        let recorded = needsGrad(x)
        let y = output([g.n, g.c, g.oh, g.ow], requiresGrad: recorded)
        for pl in 0..<planes {
            let src = x.pointer + pl * plane, dst = y.pointer + pl * p
            for oy in 0..<g.oh { for ox in 0..<g.ow {
                var s: Float = 0
                let y0 = oy * g.stride - g.padding, x0 = ox * g.stride - g.padding
                for ky in Swift.max(0, y0)..<Swift.min(g.h, y0 + g.kh) {
                    for kx in Swift.max(0, x0)..<Swift.min(g.w, x0 + g.kw) { s += src[ky * g.w + kx] }
                }
                dst[oy * g.ow + ox] = s * inv
            } }
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y), dx = tape.grad(x)
            for pl in 0..<planes {
                let d = dx + pl * plane, gr = dy + pl * p
                for oy in 0..<g.oh { for ox in 0..<g.ow {
                    let v = gr[oy * g.ow + ox] * inv
                    let y0 = oy * g.stride - g.padding, x0 = ox * g.stride - g.padding
                    for ky in Swift.max(0, y0)..<Swift.min(g.h, y0 + g.kh) {
                        for kx in Swift.max(0, x0)..<Swift.min(g.w, x0 + g.kw) { d[ky * g.w + kx] += v }
                    }
                } }
            }
        }
        return y
    }

    /// [N, C, H, W] → [N, C]: the mean of each plane.
    public func globalAvgPool(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "globalAvgPool expects [N,C,H,W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let inv = 1 / Float(Swift.max(plane, 1))
        let recorded = needsGrad(x)
        let y = output([x.shape[0], x.shape[1]], requiresGrad: recorded)
        for pl in 0..<planes {
            let src = x.pointer + pl * plane
            var s: Float = 0
            for i in 0..<plane { s += src[i] }
            y.pointer[pl] = s * inv
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y), dx = tape.grad(x)
            for pl in 0..<planes {
                let v = dy[pl] * inv, d = dx + pl * plane
                for i in 0..<plane { d[i] += v }
            }
        }
        return y
    }

    private func poolGeometry(_ x: Tensor, _ k: Int, _ s: Int, _ p: Int, _ name: String) -> ConvGeometry {
        precondition(x.rank == 4, "\(name) expects [N,C,H,W], got \(x.shape)")
        precondition(k >= 1 && s >= 1 && p >= 0 && p * 2 <= k, "\(name): kernel \(k), stride \(s), padding \(p) are invalid")
        let g = ConvGeometry(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], kh: k, kw: k, stride: s, padding: p)
        precondition(g.oh > 0 && g.ow > 0, "\(name): window \(k) does not fit input \(g.h)x\(g.w)")
        return g
    }
}
