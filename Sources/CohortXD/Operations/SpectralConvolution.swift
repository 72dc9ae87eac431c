import CohortTensor

/// The Fourier neural operator's layer (Li et al., 2021): a convolution whose kernel
/// lives on the lowest `modes` Fourier modes, y = F⁻¹(W · F(x) restricted to them).
///
/// x [B, I, n] (n a power of two) is transformed along its last axis; modes 0..<modes
/// are mixed across channels by complex weights [O, I, modes]; the rest are zero. The
/// inverse is the Hermitian one (as an inverse real FFT): modes above 0 count twice and
/// the real part is kept, so the output is the real signal with those modes.
public final class SpectralConvolution: Module {
    public let inChannels: Int, outChannels: Int, modes: Int, length: Int
    public let weightReal: Parameter, weightImag: Parameter
    let keepModes: GatherIndex, restore: GatherIndex
    let hermitianScale: Tensor

    public init(_ inChannels: Int, _ outChannels: Int, modes: Int, length: Int) throws {
        guard inChannels > 0, outChannels > 0 else { throw XDInputError("a spectral convolution needs positive channel counts") }
        guard length >= 2, length & (length - 1) == 0 else {
            throw XDInputError("a spectral convolution needs a power-of-two length, got \(length)")
        }
        guard modes >= 1, modes <= length / 2 else { throw XDInputError("modes must be in 1...\(length / 2) for length \(length), got \(modes)") }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.modes = modes
        self.length = length
        // As the reference: uniform [0, 1/(I·O)) for both parts.
        let scale = 1 / Float(inChannels * outChannels)
        weightReal = Parameter([outChannels, inChannels, modes], initializer: .uniform(low: 0, high: scale))
        weightImag = Parameter([outChannels, inChannels, modes], initializer: .uniform(low: 0, high: scale))
        keepModes = .slice(length: length, start: 0, count: modes)
        restore = GatherIndex(source: (0..<length).map { $0 < modes ? $0 : -1 }, inputLength: modes)
        hermitianScale = Tensor((0..<modes).map { $0 == 0 ? 1 : 2 }, shape: [modes])
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        precondition(x.rank == 3 && x.shape[1] == inChannels && x.shape[2] == length,
                     "spectral convolution built for [N, \(inChannels), \(length)] got \(x.shape)")
        let spectrum = tape.gather(tape.fft(tape.complex(real: x), axis: 2), axis: 2, keepModes)
        let mixed = tape.complexChannelMix(spectrum, ComplexTensor(real: weightReal.tensor, imag: weightImag.tensor))
        let doubled = ComplexTensor(real: tape.mul(mixed.real, hermitianScale), imag: tape.mul(mixed.imag, hermitianScale))
        return tape.fft(tape.gather(doubled, axis: 2, restore), axis: 2, inverse: true).real
    }

    public var members: [ModuleMember] { [.parameter("weight_real", weightReal), .parameter("weight_imag", weightImag)] }
}
