import CohortTensor

/// How one spatial axis of an XD-operation puts a convolution on a power-of-two
/// transform of length N.
///
/// Zero padding: x is placed at offset p in N = the power of two ≥ n + 2p zeros; the
/// kernel goes to v[(-j) mod N] = w[j]; then the circular convolution v ⊛ x at t is
/// Σ_j w[j] x[t + j - p], the convolution, and no wrap-around reaches t < n + 2p - k + 1.
/// Circular padding: N = n (a power of two), no placement, v[(p - j) mod N] = w[j],
/// which gives Σ_j w[j] x[(t + j - p) mod n]. Either way the output keeps positions
/// t·stride, so the operation at its Fourier initialisation is the convolution.
struct XDAxisPlan: Equatable {
    static let largestTransform = 1 << 16

    let inputLength: Int, transformLength: Int, outputLength: Int
    let placeInput: GatherIndex?
    let placeKernel: GatherIndex
    let keepOutput: GatherIndex

    init(inputLength n: Int, kernel k: Int, padding p: Int, stride s: Int, mode: GatherIndex.PaddingMode) throws {
        guard n >= 1, k >= 1, p >= 0, s >= 1 else { throw XDInputError("an XD axis needs positive sizes (input \(n), kernel \(k), stride \(s)) and padding >= 0") }
        guard k <= n + 2 * p else { throw XDInputError("kernel size \(k) is larger than the input (\(n)) plus padding (2 x \(p))") }
        guard n + 2 * p <= XDAxisPlan.largestTransform else { throw XDInputError("input \(n) plus padding 2 x \(p) exceeds the largest transform, \(XDAxisPlan.largestTransform)") }
        let outputs = (n + 2 * p - k) / s + 1
        let big: Int, shift: Int
        switch mode {
        case .zero:
            big = max(2, 1 << (Int.bitWidth - (n + 2 * p - 1).leadingZeroBitCount))
            placeInput = .padding(length: n, before: p, after: big - n - p, mode: .zero)
            shift = 0
        case .circular:
            guard n >= 2, n & (n - 1) == 0 else {
                throw XDInputError("an XD-operation with circular padding needs a power-of-two length, got \(n)")
            }
            guard k <= n else { throw XDInputError("kernel size \(k) is larger than the periodic input (\(n))") }
            big = n
            placeInput = nil
            shift = p
        }
        var kernelSource = [Int](repeating: -1, count: big)
        for j in 0..<k { kernelSource[((shift - j) % big + big) % big] = j }
        inputLength = n
        transformLength = big
        outputLength = outputs
        placeKernel = GatherIndex(source: kernelSource, inputLength: k)
        keepOutput = GatherIndex(source: (0..<outputs).map { ($0 * s) % big }, inputLength: big)
    }
}

/// An XD-operation standing in for a 1-D or 2-D convolution (Roberts et al., 2021):
/// Re(K · ((L · v) ⊙_channels (M · x))) + bias, one K, L, M per spatial axis.
///
/// x is padded and placed on a power-of-two grid, M (a ``KMatrix`` at the DFT) maps
/// it to the frequency domain; L maps the kernel, placed on the same grid, likewise;
/// the channels mix frequency by frequency; K (at the inverse DFT) maps back, the real
/// part is kept, cropped and strided. The weight and bias are the convolution's own
/// parameters (shared, under the same names); K, L and M are architecture parameters.
/// With K, L, M at their initialisation the output equals the convolution's.
public final class XDOperation: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inChannels: Int, outChannels: Int
    let axes: [XDAxisPlan]
    /// 1-D: the unit vectors at the kernel taps' places, [k, N] (see `transformedKernel`).
    let tapBasis: Tensor?
    public let m: [KMatrix], l: [KMatrix], k: [KMatrix]

    /// `weight` is [O, I, k] (1-D) or [O, I, kh, kw] (2-D); `inputSize` the spatial
    /// size of the input it will see.
    public init(weight: Parameter, bias: Parameter?, inputSize: [Int], stride: Int, padding: Int,
                mode: GatherIndex.PaddingMode, depth: Int = 1) throws {
        let spatial = weight.shape.rank - 2
        guard spatial == 1 || spatial == 2, inputSize.count == spatial else {
            throw XDInputError("an XD-operation replaces a 1-D or 2-D convolution; got a weight of shape \(weight.shape) for input size \(inputSize)")
        }
        guard depth >= 1 && depth <= 16 else { throw XDInputError("K-matrix depth must be in 1...16, got \(depth)") }
        self.weight = weight
        self.bias = bias
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        axes = try (0..<spatial).map { a in
            try XDAxisPlan(inputLength: inputSize[a], kernel: weight.shape[2 + a], padding: padding, stride: stride, mode: mode)
        }
        if spatial == 1 {
            // Row j is the unit vector at tap j's place on the grid.
            let plan = axes[0], taps = weight.shape[2]
            var rows = [Float](repeating: 0, count: taps * plan.transformLength)
            for (m, j) in plan.placeKernel.source.enumerated() where j >= 0 { rows[Int(j) * plan.transformLength + m] = 1 }
            tapBasis = Tensor(rows, shape: [taps, plan.transformLength])
        } else {
            tapBasis = nil
        }
        m = axes.map { KMatrix(length: $0.transformLength, depth: depth) }
        l = axes.map { KMatrix(length: $0.transformLength, depth: depth) }
        k = axes.map { KMatrix(length: $0.transformLength, depth: depth, inverse: true) }
    }

    /// The spatial size of the output.
    public var outputSize: [Int] { axes.map(\.outputLength) }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let batch = x.shape[0]
        precondition(x.rank == 2 + axes.count && x.shape[1] == inChannels && (0..<axes.count).allSatisfy { x.shape[2 + $0] == axes[$0].inputLength },
                     "XD-operation built for [N, \(inChannels), \(axes.map(\.inputLength))] got \(x.shape)")
        var placed = x
        for (a, plan) in axes.enumerated() { if let p = plan.placeInput { placed = tape.gather(placed, axis: 2 + a, p) } }
        let signal = forwardTransform(tape.complex(real: placed), m, tape)
        let filter = transformedKernel(tape)
        let grid = axes.map(\.transformLength), frequencies = grid.reduce(1, *)
        let mixed = tape.complexChannelMix(tape.reshape(signal, [batch, inChannels, frequencies]),
                                           tape.reshape(filter, [outChannels, inChannels, frequencies]))
        var y = inverseTransform(tape.reshape(mixed, signal.shape.replacing(1, with: outChannels).dims), tape).real
        for (a, plan) in axes.enumerated() { y = tape.gather(y, axis: 2 + a, plan.keepOutput) }
        if let bias { y = tape.add(y, tape.reshape(bias.tensor, [outChannels] + axes.map { _ in 1 })) }
        return y
    }

    /// L applied to the placed kernel, [O, I, N...] complex. In 1-D through L's columns
    /// at the k tap positions: L·v = Σ_j w[j] · L e_{m_j}, one [O·I, k] x [k, N] product
    /// per part instead of a butterfly over O·I mostly-zero vectors (the same values; 15x
    /// less work for the Burgers backbone's 64 x 64 x 17 kernels). In 2-D the kernels are
    /// small and the butterflies run over them directly.
    private func transformedKernel(_ tape: Tape) -> ComplexTensor {
        if axes.count == 1, let basis = tapBasis {
            let columns = l[0].apply(tape.complex(real: basis), axis: 1, tape)
            let taps = tape.reshape(weight.tensor, [outChannels * inChannels, weight.shape[2]])
            return tape.reshape(ComplexTensor(real: tape.matmul(taps, columns.real), imag: tape.matmul(taps, columns.imag)),
                                [outChannels, inChannels, axes[0].transformLength])
        }
        var kernel = weight.tensor
        for (a, plan) in axes.enumerated() { kernel = tape.gather(kernel, axis: 2 + a, plan.placeKernel) }
        return forwardTransform(tape.complex(real: kernel), l, tape)
    }

    /// `matrices` applied along the spatial axes. In 2-D the result is laid out
    /// [.., W, H]: each matrix runs along axis 2 with the other spatial axis innermost
    /// (contiguous, vectorised), and one transpose in between brings the second axis there.
    private func forwardTransform(_ z: ComplexTensor, _ matrices: [KMatrix], _ tape: Tape) -> ComplexTensor {
        let first = matrices[0].apply(z, axis: 2, tape)
        guard matrices.count == 2 else { return first }
        return matrices[1].apply(swapSpatialAxes(first, tape), axis: 2, tape)
    }

    /// K along the spatial axes of a [.., W, H] (2-D) or [.., N] result, back to [.., H, W].
    private func inverseTransform(_ z: ComplexTensor, _ tape: Tape) -> ComplexTensor {
        guard k.count == 2 else { return k[0].apply(z, axis: 2, tape) }
        return k[0].apply(swapSpatialAxes(k[1].apply(z, axis: 2, tape), tape), axis: 2, tape)
    }

    private func swapSpatialAxes(_ z: ComplexTensor, _ tape: Tape) -> ComplexTensor {
        ComplexTensor(real: tape.permute(z.real, [0, 1, 3, 2]), imag: tape.permute(z.imag, [0, 1, 3, 2]))
    }

    public var members: [ModuleMember] {
        var list: [ModuleMember] = [.parameter("weight", weight)]
        if let bias { list.append(.parameter("bias", bias)) }
        for a in axes.indices {
            list += [.child("m\(a)", m[a]), .child("l\(a)", l[a]), .child("k\(a)", k[a])]
        }
        return list
    }
}
