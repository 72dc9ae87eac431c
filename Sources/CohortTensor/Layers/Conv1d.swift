/// 1-D convolution over [N, C, L] input, with zero or circular (periodic) padding.
public final class Conv1d: Module {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let paddingMode: GatherIndex.PaddingMode
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                paddingMode: GatherIndex.PaddingMode = .zero, bias: Bool = true, weightInit: WeightInit = .kaimingUniform) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "Conv1d: invalid configuration \(inChannels)->\(outChannels) k\(kernel) s\(stride) p\(padding)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.paddingMode = paddingMode
        weight = Parameter([outChannels, inChannels, kernel],
                           initializer: weightInit.initializer(fanIn: inChannels * kernel, fanOut: outChannels * kernel))
        self.bias = bias ? Parameter([outChannels], initializer: .zeros) : nil
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        switch paddingMode {
        case .zero:
            return tape.conv1d(x, weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding)
        case .circular:
            let padded = padding > 0 ? tape.pad(x, axis: 2, before: padding, after: padding, mode: .circular) : x
            return tape.conv1d(padded, weight: weight.tensor, bias: bias?.tensor, stride: stride)
        }
    }

    public var members: [ModuleMember] {
        [.parameter("weight", weight)] + (bias.map { [.parameter("bias", $0)] } ?? [])
    }
}
