import CohortTensor

/// Embedder, body and predictor in one module, so one `Model` holds all their weights in
/// one flat buffer (embedder first: its parameters are one contiguous range, which
/// stage 1 trains alone).
///
/// Classification pools the body's last hidden states by their mean over tokens and maps
/// the pool to class scores; a field (Burgers) is predicted patch by patch, each token's
/// state mapped to its patch's values, so the output has the input's length.
public final class ORCANetwork: Module {
    public enum Head: Sendable, Equatable {
        case classes(Int)
        case patches(Int)
    }

    public let embedder: Module
    public let tokens: Int
    public let body: BertEncoder
    public let head: Head
    public let predictor: Linear

    public init(embedder: Module, tokens: Int, body: BertEncoder, head: Head) {
        precondition(!body.includesEmbeddings, "the body of an ORCA network takes its inputs from the embedder")
        self.embedder = embedder
        self.tokens = tokens
        self.body = body
        self.head = head
        switch head {
        case .classes(let n): predictor = Linear(body.config.hidden, n, weightInit: .xavierUniform)
        case .patches(let p): predictor = Linear(body.config.hidden, p, weightInit: .xavierUniform)
        }
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let h = body.encode(embedder(x, tape), tape)
        switch head {
        case .classes: return predictor(tape.mean(h, axes: [1]), tape)
        case .patches: return tape.reshape(predictor(h, tape), [h.shape[0], -1])
        }
    }

    /// The embedded inputs averaged over tokens, [batch, width]: what stage 1 aligns.
    public func features(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.mean(embedder(x, tape), axes: [1])
    }

    public var members: [ModuleMember] {
        [.child("embedder", embedder), .child("body", body), .child("predictor", predictor)]
    }

    /// The flat-buffer range of the embedder's parameters in `model`.
    public func embedderRange(in model: Model) -> Range<Int> {
        let base = model.parameters.flat.baseAddress!
        let spans = embedder.namedParameters().map { p -> Range<Int> in
            let start = base.distance(to: p.parameter.tensor.pointer)
            return start..<(start + p.parameter.shape.count)
        }
        let lower = spans.map(\.lowerBound).min()!, upper = spans.map(\.upperBound).max()!
        precondition(upper - lower == spans.reduce(0) { $0 + $1.count }, "the embedder's parameters are not contiguous")
        return lower..<upper
    }
}
