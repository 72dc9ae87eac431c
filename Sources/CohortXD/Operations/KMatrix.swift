import CohortTensor

/// A learnable kaleidoscope matrix of one size: a fixed input permutation (bit reversal)
/// followed by a stack of butterflies whose 2x2 complex factors are architecture
/// parameters (group "architecture"), so they train with their own optimizer.
///
/// Initialised to the DFT (or its exact inverse), the matrix starts as the transform an
/// FFT computes; search then moves its factors toward whatever linear map helps. Blocks
/// after the first start as the identity, so depth adds expressiveness, not a change
/// at initialisation. The bit-reversal stays a fixed permutation rather than a learned one.
public final class KMatrix: Module {
    public static let parameterGroup = "architecture"

    public let layout: ButterflyLayout
    public let twiddles: Parameter
    let inputOrder: GatherIndex

    public init(length: Int, depth: Int = 1, inverse: Bool = false) {
        layout = ButterflyLayout(length: length, depth: depth)
        twiddles = Parameter([layout.twiddleCount], initializer: .values(layout.fourierTwiddles(inverse: inverse)),
                             group: KMatrix.parameterGroup)
        inputOrder = .bitReversal(length: length)
    }

    /// The matrix applied along `axis` of `z`.
    public func apply(_ z: ComplexTensor, axis: Int, _ tape: Tape) -> ComplexTensor {
        tape.butterfly(tape.gather(z, axis: axis, inputOrder), axis: axis, twiddles: twiddles.tensor, layout: layout)
    }

    /// The real part of the matrix applied to real `x` along its last axis.
    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        apply(tape.complex(real: x), axis: x.rank - 1, tape).real
    }

    public var members: [ModuleMember] { [.parameter("twiddles", twiddles)] }
}
