import CKernels

// MARK: - Direct stride-1 convolution

/// Stride-1 convolutions by register-blocked vector kernels (CKernels) instead of
/// im2col + GEMM: the input is padded once per channel and every tap is a contiguous
/// vector load, so nothing is unfolded nine times over and no GEMM packs its operands.
/// The input gradient is the same kernel run over dY with the weight's channels swapped
/// and taps flipped; the weight gradient has its own kernel, summed in an order that
/// does not depend on the thread count. Images (and, for dW, output channels) are
/// split over OpenBLAS's thread count.
enum DirectConvolution {
    /// Whether `g` runs here: vector kernels on this CPU, stride 1, padding at most
    /// the kernel size minus one (what the adjoint needs) and sizes C can index.
    static func applies(to g: ConvGeometry, outputs: Int) -> Bool {
        let limit = 1 << 20
        return g.stride == 1 && g.padding <= g.kh - 1 && g.padding <= g.kw - 1 && cohort_conv_lanes() > 0
            && [g.n, g.c, g.h, g.w, g.kh, g.kw, outputs].allSatisfy { $0 < limit }
            && g.c * g.h * g.w < limit * 64 && outputs * g.positions < limit * 64
    }

    /// Vector lanes of the kernels in use (16, 8), or 0 where there are none.
    static var lanes: Int { Int(cohort_conv_lanes()) }

    /// Uses vectors of at most `lanes` (16, 8, 0: none, so im2col + GEMM) from now on;
    /// for tests, before any convolution runs. Returns the lanes now used.
    @discardableResult
    static func limitLanes(_ lanes: Int) -> Int { Int(cohort_conv_limit_lanes(Int32(Swift.max(0, Swift.min(16, lanes))))) }
}

extension Tape {
    func directConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, recorded: Bool) -> Tensor {
        let o = weight.shape[0], p = g.positions, image = g.c * g.h * g.w
        let (n, c, h, w) = (Int32(g.n), Int32(g.c), Int32(g.h), Int32(g.w))
        let (kh, kw, pad, o32) = (Int32(g.kh), Int32(g.kw), Int32(g.padding), Int32(o))
        let plane = cohort_conv_plane(h, w, kh, kw, pad, pad)
        let planes = scratch(g.n * g.c * plane)
        let packed = scratch(cohort_conv_packed_weight_size(o32, c, kh, kw))
        cohort_conv_pack_weight(weight.pointer, o32, c, kh, kw, 0, packed)
        let y = output([g.n, o, g.oh, g.ow], requiresGrad: recorded)
        let threads = ParallelParts.threads(for: g.n)
        let work = cohort_conv_forward_scratch(c, h, w, o32, kh, kw, pad, pad)
        let workspace = scratch(work * threads)
        let (xs, ys, bs) = (x.pointer, y.pointer, bias?.pointer)
        ParallelParts.run(g.n, parts: threads) { part, images in
            guard !images.isEmpty else { return }
            let at = planes + images.lowerBound * g.c * plane
            cohort_conv_pad(xs + images.lowerBound * image, Int32(images.count), c, h, w, kh, kw, pad, pad, at)
            cohort_conv_forward(at, Int32(images.count), c, h, w, packed, o32, kh, kw, pad, pad, bs, 0,
                                ys + images.lowerBound * o * p, workspace + part * work)
        }
        guard recorded else { return y }
        record(y) { tape in
            let dy = tape.grad(y)
            if let bias, bias.requiresGrad {
                let db = tape.grad(bias)
                for s in 0..<g.n { for oc in 0..<o { db[oc] += VectorKernels.sum(dy + (s * o + oc) * p, p) } }
            }
            // dY padded by k-1-padding: the input of dX's kernel, and with "same"
            // padding also the rows the weight gradient reads.
            let (oh, ow) = (Int32(g.oh), Int32(g.ow))
            let (ah, aw) = (kh - 1 - pad, kw - 1 - pad)
            let dplane = cohort_conv_plane(oh, ow, kh, kw, ah, aw)
            let shared = cohort_conv_adjoint_rows(w, kh, kw, pad, pad)
            var dplanes: UnsafeMutablePointer<Float>?
            if x.requiresGrad || (weight.requiresGrad && shared >= 0) {
                let padded = tape.scratch(g.n * o * dplane)
                ParallelParts.run(g.n, parts: threads) { _, images in
                    cohort_conv_pad(dy + images.lowerBound * o * p, Int32(images.count), o32, oh, ow, kh, kw, ah, aw,
                                    padded + images.lowerBound * o * dplane)
                }
                dplanes = padded
            }
            if weight.requiresGrad {
                let rows: UnsafeMutablePointer<Float>, stride: Int
                if shared >= 0, let dplanes {
                    (rows, stride) = (dplanes + shared, dplane)
                } else {
                    stride = cohort_conv_output_plane(h, w, kh, kw, pad, pad)
                    let padded = tape.scratch(g.n * o * stride)
                    ParallelParts.run(g.n, parts: threads) { _, images in
                        cohort_conv_pad_output(dy + images.lowerBound * o * p, Int32(images.count), o32, h, w, kh, kw, pad, pad,
                                               padded + images.lowerBound * o * stride)
                    }
                    rows = padded
                }
                let dw = tape.grad(weight)
                // Ranges of whole blocks of the kernel's channels (4 with AVX-512, 3 with
                // AVX2); each sum runs in the same order however the channels are split.
                let block = cohort_conv_lanes() == 16 ? 4 : 3
                let blocks = (o + block - 1) / block, parts = ParallelParts.threads(for: blocks)
                let partial = cohort_conv_weight_grad_scratch(o32, c, kh, kw)
                let partials = tape.scratch(partial * parts)
                ParallelParts.run(blocks, parts: parts) { part, range in
                    guard !range.isEmpty else { return }
                    cohort_conv_weight_grad(planes, rows, stride, n, c, h, w, o32, kh, kw, pad, pad,
                                            Int32(range.lowerBound * block), Int32(Swift.min(o, range.upperBound * block)), dw,
                                            partials + part * partial)
                }
            }
            if x.requiresGrad, let dplanes {
                // dX: the forward kernel over padded dY with the weight's adjoint.
                let adjoint = tape.scratch(cohort_conv_packed_weight_size(c, o32, kh, kw))
                cohort_conv_pack_weight(weight.pointer, c, o32, kh, kw, 1, adjoint)
                let dx = tape.grad(x)
                let dwork = cohort_conv_forward_scratch(o32, oh, ow, c, kh, kw, ah, aw)
                let dworkspace = tape.scratch(dwork * threads)
                ParallelParts.run(g.n, parts: threads) { part, images in
                    guard !images.isEmpty else { return }
                    cohort_conv_forward(dplanes + images.lowerBound * o * dplane, Int32(images.count), o32, oh, ow, adjoint, c,
                                        kh, kw, ah, aw, nil, 1, dx + images.lowerBound * image, dworkspace + part * dwork)
                }
            }
        }
        return y
    }
}
