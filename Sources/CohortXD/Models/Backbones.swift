import CohortTensor

/// y = first(x) + second(x): a block whose branches see the same input (a wide
/// convolution beside a 1x1 path in the Burgers backbone, a spectral convolution beside
/// one in the FNO). The conversion replaces convolutions inside either branch.
public final class BranchSum: Module, XDConvertible {
    public let first: Module, second: Module

    public init(_ first: Module, _ second: Module) {
        self.first = first
        self.second = second
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { tape.add(first(x, tape), second(x, tape)) }

    public var members: [ModuleMember] { [.child("0", first), .child("1", second)] }

    public func convertedToXD(_ x: Tensor, _ tape: Tape, replace: (Module, Tensor) throws -> (Module, Tensor)) throws -> (Module, Tensor) {
        let (a, ya) = try replace(first, x)
        let (b, yb) = try replace(second, x)
        return (BranchSum(a, b), tape.add(ya, yb))
    }
}

/// The networks the comparisons train.
public enum XDBackbones {
    /// LeNet-5 for [C, H, W] images: two 5x5 convolutions (6 and 16 filters, no padding)
    /// each followed by ReLU and 2x2 max pooling, then 120 and 84 hidden units.
    public static func leNet(channels: Int, height: Int, width: Int, classes: Int) throws -> Sequential {
        guard channels > 0, classes > 1 else { throw XDInputError("LeNet needs a positive channel count and at least 2 classes") }
        guard height >= 16, width >= 16 else { throw XDInputError("LeNet needs images of at least 16x16, got \(height)x\(width)") }
        let h = ((height - 4) / 2 - 4) / 2, w = ((width - 4) / 2 - 4) / 2
        return Sequential([
            Conv2d(channels, 6, kernel: 5), Activation(.relu), MaxPool2d(kernel: 2),
            Conv2d(6, 16, kernel: 5), Activation(.relu), MaxPool2d(kernel: 2),
            Flatten(), Linear(16 * h * w, 120), Activation(.relu), Linear(120, 84), Activation(.relu),
            Linear(84, classes, weightInit: .xavierUniform),
        ])
    }

    /// The convolutional backbone of the Burgers experiments: a pointwise lift of the
    /// (u0, x) channels to `width`, `layers` blocks of [a width-`kernel` circular
    /// convolution beside a 1x1 one, batch norm, ReLU (none after the last)], then
    /// width -> 128 -> 1 pointwise. Input [N, 2, n], output [N, 1, n].
    public static func burgersConvolutional(width: Int = 64, kernel: Int = 17, layers: Int = 4) throws -> Sequential {
        guard kernel >= 1, kernel % 2 == 1 else { throw XDInputError("the Burgers backbone needs an odd kernel size, got \(kernel)") }
        return try operatorNetwork(width: width, layers: layers) {
            Conv1d(width, width, kernel: kernel, padding: kernel / 2, paddingMode: .circular)
        }
    }

    /// The Fourier neural operator with the same lift, blocks and projection as the
    /// convolutional backbone, a spectral convolution on `modes` modes in place of each
    /// wide convolution. Input [N, 2, length], output [N, 1, length].
    public static func fourierNeuralOperator(width: Int = 64, modes: Int = 16, layers: Int = 4, length: Int) throws -> Sequential {
        try operatorNetwork(width: width, layers: layers) { try SpectralConvolution(width, width, modes: modes, length: length) }
    }

    private static func operatorNetwork(width: Int, layers: Int, wide: () throws -> Module) throws -> Sequential {
        guard width >= 1, width <= 4096 else { throw XDInputError("width must be in 1...4096, got \(width)") }
        guard layers >= 1, layers <= 64 else { throw XDInputError("layers must be in 1...64, got \(layers)") }
        var modules: [Module] = [Conv1d(2, width, kernel: 1)]
        for i in 0..<layers {
            modules.append(BranchSum(try wide(), Conv1d(width, width, kernel: 1)))
            modules.append(BatchNorm(width))
            if i < layers - 1 { modules.append(Activation(.relu)) }
        }
        modules += [Conv1d(width, 128, kernel: 1), Activation(.relu), Conv1d(128, 1, kernel: 1)]
        return Sequential(modules)
    }
}
