/// Records the ops of a forward pass and runs their backward rules in reverse.
///
/// A tape also owns the arena that every op output, gradient and workspace comes from,
/// so one tape per training loop gives the "no allocation after the first step"
/// property: call `reset()` at the top of each step. The tape's `mode` tells layers
/// whether they train (batch statistics, dropout on) or evaluate; an evaluation tape
/// records nothing.
///
/// Usage: `tape.reset(); let loss = tape.crossEntropy(model(x, tape), labels);
/// tape.backward(loss); optimizer.step(model)`.
public final class Tape {
    public enum Mode: Sendable { case training, evaluation }

    /// How layers behave on this tape.
    public let mode: Mode
    /// False inside `withoutGradients` and, by default, on an evaluation tape.
    public private(set) var isRecording: Bool

    typealias Backward = (Tape) -> Void
    private var entries: [(output: Tensor, backward: Backward)] = []
    var arena = TensorArena()
    /// Incremented by every backward pass; gradient buffers of intermediates are valid
    /// only for the pass that zeroed them.
    private(set) var pass = 0

    /// An evaluation tape records nothing unless `recordsGradients` says so (gradients
    /// through a frozen model, e.g. with respect to its input).
    public init(mode: Mode = .training, recordsGradients: Bool? = nil) {
        self.mode = mode
        isRecording = recordsGradients ?? (mode == .training)
        entries.reserveCapacity(256)
    }

    public var isTraining: Bool { mode == .training }

    /// Starts a new step: forgets recorded ops and recycles all arena storage.
    public func reset() {
        entries.removeAll(keepingCapacity: true)
        arena.reset()
    }

    /// Runs `body` without recording (evaluation on a training tape, metric computation).
    public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        let saved = isRecording
        isRecording = false
        defer { isRecording = saved }
        return try body()
    }

    /// Number of ops recorded and not yet consumed by `backward`.
    public var recordedCount: Int { entries.count }
    /// Number of storage slots the arena holds (stable after the first step).
    public var arenaSlotCount: Int { arena.slotCount }

    // MARK: Making tensors in the arena

    /// An arena tensor with unspecified contents.
    public func empty(_ shape: Shape) -> Tensor {
        Tensor(shape: shape, storage: arena.take(shape.count))
    }

    /// An arena tensor of zeros.
    public func zeros(_ shape: Shape) -> Tensor {
        let t = empty(shape)
        t.pointer.update(repeating: 0, count: shape.count)
        return t
    }

    /// An arena tensor holding a copy of `values`.
    public func tensor(_ values: UnsafeBufferPointer<Float>, shape: Shape) -> Tensor {
        precondition(values.count == shape.count, "\(values.count) values do not fill shape \(shape)")
        let t = empty(shape)
        if shape.count > 0 { t.pointer.update(from: values.baseAddress!, count: shape.count) }
        return t
    }

    /// An arena tensor holding a copy of `values`.
    public func tensor(_ values: [Float], shape: Shape) -> Tensor {
        values.withUnsafeBufferPointer { tensor($0, shape: shape) }
    }

    /// A leaf that gradients flow to (tests, input-gradient analysis); its gradient is
    /// read with `Tensor.gradient` after `backward`.
    public func variable(_ values: [Float], shape: Shape) -> Tensor {
        let t = tensor(values, shape: shape)
        t.requiresGrad = true
        return t
    }

    /// Float workspace valid until `reset()`.
    func scratch(_ count: Int) -> UnsafeMutablePointer<Float> { arena.take(count).base }
    /// Int32 workspace valid until `reset()`.
    func scratchIndices(_ count: Int) -> UnsafeMutablePointer<Int32> { arena.takeIndices(count) }

    // MARK: Recording (used by ops)

    /// Whether an op over these inputs must record a backward rule.
    @inline(__always)
    func needsGrad(_ a: Tensor) -> Bool { isRecording && a.requiresGrad }
    @inline(__always)
    func needsGrad(_ a: Tensor, _ b: Tensor) -> Bool { isRecording && (a.requiresGrad || b.requiresGrad) }

    /// The output tensor of an op, marked as requiring a gradient when `recorded`.
    func output(_ shape: Shape, requiresGrad: Bool) -> Tensor {
        let t = empty(shape)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Records `backward` to run when the gradient of `output` is known.
    func record(_ output: Tensor, _ backward: @escaping Backward) {
        entries.append((output, backward))
    }

    /// A view sharing storage and gradient with `base` (reshape, leading-axis slice).
    func view(of base: Tensor, shape: Shape, elementOffset: Int = 0) -> Tensor {
        let root = base.viewBase ?? base
        let v = Tensor(shape: shape, storage: base.storage, offset: base.offset + elementOffset)
        v.requiresGrad = base.requiresGrad && isRecording
        if v.requiresGrad || base.viewBase != nil || base.gradPass == Tensor.fixedGradient {
            v.viewBase = root
            v.viewOffset = base.viewOffset + elementOffset
        }
        return v
    }

    // MARK: Gradients (used by backward rules)

    /// The gradient buffer of `t` for this pass, zeroed on first use. Backward rules
    /// accumulate into it (`+=`), which is what makes fan-out and accumulation work.
    func grad(_ t: Tensor) -> UnsafeMutablePointer<Float> {
        if let root = t.viewBase { return grad(root) + t.viewOffset }
        if t.gradPass == Tensor.fixedGradient { return t.gradStorage!.base + t.gradOffset }
        if t.gradPass != pass {
            let s = arena.take(t.count)
            s.base.update(repeating: 0, count: t.count)
            t.gradStorage = s
            t.gradOffset = 0
            t.gradPass = pass
        }
        return t.gradStorage!.base + t.gradOffset
    }

    /// The gradient buffer of `t` for a rule that writes every element: when nothing has
    /// flowed into `t` yet in this pass the buffer comes back unzeroed with `fresh` true
    /// and the caller must overwrite it (saves a memset and a read on big activations);
    /// otherwise the caller accumulates as usual.
    func gradForOverwrite(_ t: Tensor) -> (pointer: UnsafeMutablePointer<Float>, fresh: Bool) {
        if t.viewBase != nil || t.gradPass == Tensor.fixedGradient || t.gradPass == pass { return (grad(t), false) }
        let s = arena.take(t.count)
        t.gradStorage = s
        t.gradOffset = 0
        t.gradPass = pass
        return (s.base, true)
    }

    /// The gradient of `t` if anything has flowed into it during this pass.
    func existingGrad(_ t: Tensor) -> UnsafeMutablePointer<Float>? {
        if let root = t.viewBase { return existingGrad(root).map { $0 + t.viewOffset } }
        if t.gradPass == Tensor.fixedGradient || t.gradPass == pass { return t.gradStorage!.base + t.gradOffset }
        return nil
    }

    // MARK: Backward

    /// Propagates gradients from `loss` back through every recorded op, accumulating
    /// into parameters' gradient buffers (`+=`; zero them between steps). `loss` must
    /// have one element unless `seed` (dLoss, same shape) is given. Consumes the
    /// recorded ops; tensors stay readable until `reset()`.
    public func backward(_ loss: Tensor, seed: [Float]? = nil) {
        if let seed {
            precondition(seed.count == loss.count, "seed has \(seed.count) values for a loss of shape \(loss.shape)")
            propagate(from: loss) { g in for i in 0..<seed.count { g[i] += seed[i] } }
        } else {
            backward(loss, scale: 1)
        }
    }

    /// Backward from a one-element `loss` whose gradient is `scale` instead of 1 (e.g.
    /// a data-parallel shard's weight in the full batch). Allocates nothing.
    public func backward(_ loss: Tensor, scale: Float) {
        precondition(loss.count == 1, "backward from a tensor of shape \(loss.shape) needs a seed gradient")
        propagate(from: loss) { g in g[0] += scale }
    }

    private func propagate(from loss: Tensor, seed: (UnsafeMutablePointer<Float>) -> Void) {
        pass += 1
        guard loss.requiresGrad else { entries.removeAll(keepingCapacity: true); return }
        seed(grad(loss))
        for i in stride(from: entries.count - 1, through: 0, by: -1) {
            let entry = entries[i]
            guard existingGrad(entry.output) != nil else { continue }
            entry.backward(self)
        }
        entries.removeAll(keepingCapacity: true)
    }
}
