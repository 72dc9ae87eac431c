import Foundation

/// A module tree with all of its parameters in one flat buffer.
///
/// `Model(root, seed:)` walks the tree, lays out every trainable parameter end to end
/// in `parameters` (gradients in `gradients`, same layout) and every non-trainable
/// buffer in `state`, then initializes each from a random stream derived from the seed
/// and the parameter's name: the same seed gives bit-identical weights, and adding a
/// layer does not change the initial values of the others.
public final class Model {
    public let root: Module
    /// Trainable values, one contiguous buffer.
    public let parameters: FlatBuffer
    /// Gradients of `parameters`, same layout; backward passes accumulate into it.
    public let gradients: FlatBuffer
    /// Non-trainable state (batch-norm running statistics), saved in checkpoints.
    public let state: FlatBuffer
    /// Layer-owned random streams (dropout), by name.
    public let randomSources: [(name: String, source: RandomSource)]
    /// Where each parameter group lies in `parameters` (and `gradients`); "" is the
    /// weights. A group absent from the model has no entry.
    public let groupRanges: [String: Range<Int>]

    public convenience init(_ root: Module, seed: UInt64) {
        self.init(root, rng: RandomStream(seed: seed, stream: [0x6D6F_6465_6C]))
    }

    public init(_ root: Module, rng: RandomStream) {
        self.root = root
        var seen = Set<ObjectIdentifier>()
        var trainable: [(String, Parameter)] = [], buffers: [(String, Parameter)] = []
        for (name, p) in root.namedParameters() where seen.insert(ObjectIdentifier(p)).inserted {
            if p.isTrainable { trainable.append((name, p)) } else { buffers.append((name, p)) }
        }
        // Weights first, then each other group in order of first appearance.
        var groups: [String] = [""]
        for (_, p) in trainable where !groups.contains(p.group) { groups.append(p.group) }
        trainable = groups.flatMap { g in trainable.filter { $0.1.group == g } }
        func layout(_ list: [(String, Parameter)]) -> [FlatBuffer.Entry] {
            var offset = 0
            return list.map { name, p in
                defer { offset += p.shape.count }
                return FlatBuffer.Entry(name: name, shape: p.shape, offset: offset)
            }
        }
        let entries = layout(trainable)
        parameters = FlatBuffer(entries: entries)
        gradients = FlatBuffer(entries: entries)
        state = FlatBuffer(entries: layout(buffers))
        for (e, (_, p)) in zip(entries, trainable) {
            p.tensor = Tensor(shape: p.shape, storage: parameters.storage, offset: e.offset,
                              gradientStorage: gradients.storage, gradientOffset: e.offset)
        }
        for (e, (_, p)) in zip(state.entries, buffers) {
            p.tensor = Tensor(shape: p.shape, storage: state.storage, offset: e.offset)
        }
        randomSources = root.namedRandomSources()
        var ranges: [String: Range<Int>] = [:]
        for (e, (_, p)) in zip(entries, trainable) {
            let lower = ranges[p.group]?.lowerBound ?? e.offset
            ranges[p.group] = lower..<(e.offset + e.count)
        }
        groupRanges = ranges
        self.packed = trainable + buffers
        reinitialize(rng: rng)
    }

    private let packed: [(String, Parameter)]

    /// Draws fresh initial values for every parameter and buffer, and reseeds the
    /// layers' random sources, all from `rng` and each one's name.
    public func reinitialize(rng: RandomStream) {
        for (name, p) in packed {
            var stream = rng.derived(Model.nameKey(name))
            p.initializer.fill(p.tensor.buffer, rng: &stream)
        }
        for (name, r) in randomSources { r.stream = rng.derived(Model.nameKey("random:" + name)) }
        gradients.zero()
    }

    /// FNV-1a of a name: a stable stream identity.
    static func nameKey(_ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    // MARK: Running

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor { root.forward(x, tape) }
    public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor { root.forward(x, tape) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.count }

    /// Clears accumulated gradients (one memset over the flat gradient buffer).
    public func zeroGradients() { gradients.zero() }

    /// Scales gradients so their global L2 norm is at most `maxNorm`; returns the norm
    /// before clipping.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float) -> Float {
        let g = gradients.flat
        var s: Double = 0
        for v in g { s += Double(v) * Double(v) }
        let norm = Float(s.squareRoot())
        if norm > maxNorm && norm > 0 {
            let k = maxNorm / norm
            for i in g.indices { g[i] *= k }
        }
        return norm
    }
}
