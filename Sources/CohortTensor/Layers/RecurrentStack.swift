/// Stacked LSTM or GRU layers over batch-first sequences [B, T, I] → [B, T, H]: layer
/// l + 1 reads layer l's hidden states. Parameters per layer `l`: `l.weight_ih`,
/// `l.weight_hh` and `l.bias` (LSTM) or `l.bias_ih` and `l.bias_hh` (GRU), drawn
/// uniformly from ±1/√H as is usual for recurrent layers.
///
/// Truncated backpropagation through time: with `carriesState` on, each forward pass
/// starts from the states the previous pass ended in (zeros at first and after
/// `resetState()`), and gradients stop at that boundary. A long sequence is then fed as
/// consecutive segments, each trained on its own, while the hidden state runs on. The
/// carried state lives in one buffer, allocated again only when the batch size changes.
public final class RecurrentStack: Module {
    public enum Kind: String, Sendable, CaseIterable { case lstm, gru }

    public let kind: Kind
    public let inputSize: Int, hiddenSize: Int
    /// Per layer: [weightIH, weightHH, bias] (LSTM) or [weightIH, weightHH, biasIH, biasHH] (GRU).
    public let parameters: [[Parameter]]
    /// Whether forward passes continue from the previous pass's final states.
    public var carriesState = false
    private var carried: TensorStorage?
    private var carriedBatch = 0

    public init(_ kind: Kind, inputSize: Int, hiddenSize: Int, layers: Int = 1) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0, "RecurrentStack needs positive sizes and layer count")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let gates = (kind == .lstm ? 4 : 3) * hiddenSize
        let bound = 1 / Float(hiddenSize).squareRoot()
        let initializer = Initializer.uniform(low: -bound, high: bound)
        parameters = (0 ..< layers).map { l in
            let weights = [Parameter([gates, l == 0 ? inputSize : hiddenSize], initializer: initializer),
                           Parameter([gates, hiddenSize], initializer: initializer)]
            return weights + (kind == .lstm ? [Parameter([gates], initializer: initializer)]
                                            : [Parameter([gates], initializer: initializer), Parameter([gates], initializer: initializer)])
        }
    }

    public var layerCount: Int { parameters.count }
    /// Floats per sequence in the carried state: h (and c for an LSTM) of every layer.
    var stateWidth: Int { layerCount * (kind == .lstm ? 2 : 1) * hiddenSize }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == inputSize, "\(kind) expects [batch, steps, \(inputSize)], got \(x.shape)")
        let b = x.shape[0], h = hiddenSize
        let state = carriesState ? carriedStorage(batch: b) : nil
        var sequence = x
        for (l, p) in parameters.enumerated() {
            // Copies of the carried state: the buffer is overwritten below while the
            // backward pass still reads the initial states.
            func initial(_ slot: Int) -> Tensor? {
                guard let state else { return nil }
                let t = tape.empty([b, h])
                t.pointer.update(from: state.base + slot * b * h, count: b * h)
                return t
            }
            let out: RecurrentOutput
            switch kind {
            case .lstm:
                out = tape.lstm(sequence, weightIH: p[0].tensor, weightHH: p[1].tensor, bias: p[2].tensor,
                                initialHidden: initial(2 * l), initialCell: initial(2 * l + 1))
                if let state, let c = out.cell { (state.base + (2 * l + 1) * b * h).update(from: c.pointer, count: b * h) }
                if let state { (state.base + 2 * l * b * h).update(from: out.hidden.pointer, count: b * h) }
            case .gru:
                out = tape.gru(sequence, weightIH: p[0].tensor, weightHH: p[1].tensor, biasIH: p[2].tensor, biasHH: p[3].tensor,
                               initialHidden: initial(l))
                if let state { (state.base + l * b * h).update(from: out.hidden.pointer, count: b * h) }
            }
            sequence = out.sequence
        }
        return sequence
    }

    /// Zeros the carried state (the start of a new sequence).
    public func resetState() {
        if let carried { carried.base.update(repeating: 0, count: carried.capacity) }
    }

    /// The carried state, for checkpoints: `batch · stateWidth` values, or none.
    public var carriedState: [Float] {
        get { carried.map { Array(UnsafeBufferPointer(start: $0.base, count: carriedBatch * stateWidth)) } ?? [] }
        set {
            guard !newValue.isEmpty, newValue.count % stateWidth == 0 else { carried = nil; carriedBatch = 0; return }
            let s = carriedStorage(batch: newValue.count / stateWidth)
            newValue.withUnsafeBufferPointer { s.base.update(from: $0.baseAddress!, count: newValue.count) }
        }
    }

    private func carriedStorage(batch: Int) -> TensorStorage {
        if let carried, carriedBatch == batch { return carried }
        let s = TensorStorage(capacity: batch * stateWidth)
        s.base.update(repeating: 0, count: batch * stateWidth)
        carried = s
        carriedBatch = batch
        return s
    }

    public var members: [ModuleMember] {
        parameters.enumerated().flatMap { l, p -> [ModuleMember] in
            let names = kind == .lstm ? ["weight_ih", "weight_hh", "bias"] : ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
            return zip(names, p).map { .parameter("\(l).\($0)", $1) }
        }
    }
}
