/// 2-D convolution over NCHW input with a square kernel.
public final class Conv2d: Module {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, weightInit: WeightInit = .kaimingUniform) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "Conv2d: invalid configuration \(inChannels)->\(outChannels) k\(kernel) s\(stride) p\(padding)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernel * kernel
        weight = Parameter([outChannels, inChannels, kernel, kernel],
                           initializer: weightInit.initializer(fanIn: fanIn, fanOut: outChannels * kernel * kernel))
        self.bias = bias ? Parameter([outChannels], initializer: .zeros) : nil
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.conv2d(x, weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding)
    }

    public var members: [ModuleMember] {
        [.parameter("weight", weight)] + (bias.map { [.parameter("bias", $0)] } ?? [])
    }
}
