import CohortTensor

// MARK: - The operations of a cell edge and of the network skeleton

/// ReLU, then a bias-free convolution, then batch norm: NAS-Bench-201's convolution
/// unit, used on cell edges (`nor_conv_1x1`, `nor_conv_3x3`) and in reduction blocks.
final class ReLUConvBN: Module {
    let conv: Conv2d
    let norm: Module

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, normalization: NormalizationStyle, affine: Bool = true) {
        conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: kernel / 2, bias: false, weightInit: .kaimingNormal)
        norm = normalization.make(outChannels, affine: affine)
    }

    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        forward(rectified: tape.relu(x), tape)
    }

    /// Conv-BN of an input already through the ReLU: a cell rectifies each node once
    /// for all the convolutions it feeds.
    func forward(rectified: Tensor, _ tape: Tape) -> Tensor {
        norm.forward(conv.forward(rectified, tape), tape)
    }

    var members: [ModuleMember] { [.child("conv", conv), .child("bn", norm)] }
}

/// 3x3 average pooling, stride 1, padding 1, averaging over the positions inside the
/// image only (NAS-Bench-201's `count_include_pad=False`): the tape's pooling divides
/// by 9 everywhere, so border outputs are rescaled by 9 / (positions inside).
final class AveragePool3x3: Module {
    /// [1, C*H*W] factors, made once per input size: multiplying an [N, C*H*W] view
    /// runs over whole samples instead of image rows.
    private var corrections: [Int: Tensor] = [:]

    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let pooled = tape.avgPool2d(x, kernel: 3, stride: 1, padding: 1)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let corrected = tape.mul(tape.reshape(pooled, [n, c * h * w]), correction(channels: c, height: h, width: w))
        return tape.reshape(corrected, x.shape)
    }

    private func correction(channels c: Int, height h: Int, width w: Int) -> Tensor {
        let key = (c << 40) | (h << 20) | w
        if let t = corrections[key] { return t }
        var plane = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            let rows = (y > 0 ? 1 : 0) + 1 + (y < h - 1 ? 1 : 0)
            for x in 0..<w {
                let columns = (x > 0 ? 1 : 0) + 1 + (x < w - 1 ? 1 : 0)
                plane[y * w + x] = 9 / Float(rows * columns)
            }
        }
        let t = Tensor(Array((0..<c).map { _ in plane }.joined()), shape: [1, c * h * w])
        corrections[key] = t
        return t
    }
}

/// NAS-Bench-201's residual reduction block between stages: ReLU-conv3x3(stride 2)-BN,
/// ReLU-conv3x3-BN, plus a shortcut of 2x2 average pooling and a 1x1 convolution;
/// halves the spatial size and sets the new channel count.
final class ResidualReduction: Module {
    let convA: ReLUConvBN, convB: ReLUConvBN
    let shortcut: Conv2d

    init(_ inChannels: Int, _ outChannels: Int, normalization: NormalizationStyle) {
        convA = ReLUConvBN(inChannels, outChannels, kernel: 3, stride: 2, normalization: normalization)
        convB = ReLUConvBN(outChannels, outChannels, kernel: 3, normalization: normalization)
        shortcut = Conv2d(inChannels, outChannels, kernel: 1, bias: false, weightInit: .kaimingNormal)
    }

    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let main = convB.forward(convA.forward(x, tape), tape)
        let skip = shortcut.forward(tape.avgPool2d(x, kernel: 2, stride: 2), tape)
        return tape.add(main, skip)
    }

    var members: [ModuleMember] { [.child("conv_a", convA), .child("conv_b", convB), .child("shortcut", shortcut)] }
}

/// The operation modules of one edge, as a trained cell and a supernet hold them.
enum EdgeOperation {
    case skip
    case pool(AveragePool3x3)
    case conv(ReLUConvBN)

    init?(_ op: CellOperation, channels: Int, normalization: NormalizationStyle, affine: Bool) {
        switch op {
        case .none: return nil
        case .skipConnect: self = .skip
        case .averagePool3x3: self = .pool(AveragePool3x3())
        case .convolution1x1: self = .conv(ReLUConvBN(channels, channels, kernel: 1, normalization: normalization, affine: affine))
        case .convolution3x3: self = .conv(ReLUConvBN(channels, channels, kernel: 3, normalization: normalization, affine: affine))
        }
    }

    /// The operation applied to node `i` of `nodes`.
    func forward(node i: Int, _ nodes: inout CellNodes, _ tape: Tape) -> Tensor {
        switch self {
        case .skip: return nodes.value(i)
        case .pool(let p): return nodes.pooled(i, p, tape)
        case .conv(let c): return c.forward(rectified: nodes.rectified(i, tape), tape)
        }
    }

    var module: Module? {
        if case .conv(let c) = self { return c }
        return nil
    }
}

/// The node values of one cell's forward pass, with each node's ReLU and pooling
/// computed at most once however many edges leave it (the same values and gradients
/// as computing them per edge, for less work).
struct CellNodes {
    private var values: [Tensor?]
    private var rectifiedValues: [Tensor?]
    private var pooledValues: [Tensor?]

    init(input: Tensor) {
        values = [input] + Array(repeating: nil, count: CellArchitecture.nodeCount - 1)
        rectifiedValues = Array(repeating: nil, count: CellArchitecture.nodeCount)
        pooledValues = Array(repeating: nil, count: CellArchitecture.nodeCount)
    }

    /// Node i's value; every node an edge reads is complete (edges come in node order).
    func value(_ i: Int) -> Tensor { values[i]! }

    /// Node i's value, or nil when nothing reached it.
    func valueIfAny(_ i: Int) -> Tensor? { values[i] }

    mutating func rectified(_ i: Int, _ tape: Tape) -> Tensor {
        if let r = rectifiedValues[i] { return r }
        let r = tape.relu(value(i))
        rectifiedValues[i] = r
        return r
    }

    mutating func pooled(_ i: Int, _ pool: AveragePool3x3, _ tape: Tape) -> Tensor {
        if let p = pooledValues[i] { return p }
        let p = pool.forward(value(i), tape)
        pooledValues[i] = p
        return p
    }

    /// Adds `term` into node j's sum. The addition runs on flat views: same-shape
    /// elementwise work in one run rather than one run per image row.
    mutating func accumulate(_ term: Tensor, into j: Int, _ tape: Tape) {
        guard let sum = values[j] else { values[j] = term; return }
        values[j] = tape.reshape(tape.add(flat(sum, tape), flat(term, tape)), sum.shape)
    }

    /// `term` scaled by a one-element `weight` (a mixture's architecture weight), on
    /// flat views like `accumulate`.
    func scaled(_ term: Tensor, by weight: Tensor, _ tape: Tape) -> Tensor {
        tape.reshape(tape.mul(flat(term, tape), weight), term.shape)
    }

    private func flat(_ t: Tensor, _ tape: Tape) -> Tensor { tape.reshape(t, [t.count]) }
}
