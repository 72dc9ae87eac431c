/// A complex tensor as two real tensors of one shape: the real and the imaginary part.
///
/// Ops that produce one allocate a single arena tensor of twice the size and hand out its
/// halves as views, so one recorded backward rule sees the gradient of both parts (the
/// gradient of a real loss with respect to z is stored as dL/dRe z and dL/dIm z).
/// Taking the real part is therefore free: `z.real` is already a tensor, and gradients
/// reaching it flow back into the pair.
public struct ComplexTensor {
    public let real: Tensor
    public let imag: Tensor

    public init(real: Tensor, imag: Tensor) {
        precondition(real.shape == imag.shape, "complex parts differ in shape: \(real.shape) and \(imag.shape)")
        self.real = real
        self.imag = imag
    }

    public var shape: Shape { real.shape }
    public var count: Int { real.count }
    public var rank: Int { real.rank }
    var requiresGrad: Bool { real.requiresGrad || imag.requiresGrad }
}

extension Tape {
    /// A complex output of `shape`: one arena tensor `pair` (real half, then imaginary
    /// half) and its two halves as the complex value. Ops record their backward on `pair`.
    func complexOutput(_ shape: Shape, requiresGrad: Bool) -> (pair: Tensor, value: ComplexTensor) {
        let pair = output([2 * shape.count], requiresGrad: requiresGrad)
        let re = view(of: pair, shape: shape, elementOffset: 0)
        let im = view(of: pair, shape: shape, elementOffset: shape.count)
        return (pair, ComplexTensor(real: re, imag: im))
    }

    /// `x + 0i`.
    public func complex(real x: Tensor) -> ComplexTensor {
        ComplexTensor(real: x, imag: zeros(x.shape))
    }

    /// Both parts under a new shape (views).
    public func reshape(_ z: ComplexTensor, _ dims: [Int]) -> ComplexTensor {
        ComplexTensor(real: reshape(z.real, dims), imag: reshape(z.imag, dims))
    }

    /// Both parts gathered along `axis` (see `gather(_:axis:_:)`).
    public func gather(_ z: ComplexTensor, axis: Int, _ index: GatherIndex) -> ComplexTensor {
        ComplexTensor(real: gather(z.real, axis: axis, index), imag: gather(z.imag, axis: axis, index))
    }

    /// The gradient buffers of a complex input, or nil for a part that takes none.
    func complexGrads(_ z: ComplexTensor) -> (re: UnsafeMutablePointer<Float>?, im: UnsafeMutablePointer<Float>?) {
        (z.real.requiresGrad ? grad(z.real) : nil, z.imag.requiresGrad ? grad(z.imag) : nil)
    }
}
