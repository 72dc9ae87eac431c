// MARK: - Pooling layers (no parameters)

/// Max over k×k windows.
public final class MaxPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// Mean over k×k windows.
public final class AvgPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.avgPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// [N, C, H, W] → [N, C].
public final class GlobalAvgPool: Module {
    public init() {}
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { tape.globalAvgPool(x) }
}
