import CohortTensor

/// How the cells of a supernet compute on one forward pass.
public enum CellPath {
    /// One architecture: only its operations run (random search with weight sharing,
    /// scoring, and the supernet steps of any sampled architecture).
    case single(CellArchitecture)
    /// Every operation of every edge, each output scaled by its architecture weight
    /// and summed (GAEA, DARTS).
    case mixture(MixtureWeights)
}

/// Architecture weights as the tape sees them: one single-element view per (edge,
/// operation) into a [6 x 5] (or [30]) tensor, so that gradients reach that tensor.
public struct MixtureWeights {
    let entries: [Tensor]

    /// `weights` holds edge e's weight of operation k at e * 5 + k.
    public init(_ weights: Tensor, tape: Tape) {
        let count = CellArchitecture.edgeCount * CellOperation.allCases.count
        precondition(weights.count == count, "mixture weights need \(count) values, got shape \(weights.shape)")
        let flat = tape.reshape(weights, [count])
        entries = (0..<count).map { tape.slice(flat, axis: 0, $0..<($0 + 1)) }
    }

    func weight(edge: Int, operation: CellOperation) -> Tensor {
        entries[edge * CellOperation.allCases.count + operation.index]
    }
}

/// A cell as networks use it: the path matters to a supernet's shared cell only.
protocol CellModule: Module {
    func forward(_ x: Tensor, _ tape: Tape, path: CellPath?) -> Tensor
}

// MARK: - A trained architecture's cell

/// The cell of one architecture: modules for its live edges only (see
/// `CellArchitecture.liveEdges`), each with its own weights.
final class FixedCell: CellModule {
    let architecture: CellArchitecture
    let operations: [(edge: Int, operation: EdgeOperation)]

    init(_ architecture: CellArchitecture, channels: Int, normalization: NormalizationStyle) {
        precondition(architecture.isConnected, "a trained cell must connect input to output")
        self.architecture = architecture
        operations = architecture.liveEdges.map { e in
            (e, EdgeOperation(architecture.operations[e], channels: channels, normalization: normalization, affine: true)!)
        }
    }

    func forward(_ x: Tensor, _ tape: Tape, path: CellPath?) -> Tensor {
        forward(x, tape)
    }

    /// Live edges come in edge order, which is node order: every input of node j is
    /// complete before node j's first edge runs.
    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        var nodes = CellNodes(input: x)
        for (e, op) in operations {
            let (i, j) = CellArchitecture.edges[e]
            let term = op.forward(node: i, &nodes, tape)
            nodes.accumulate(term, into: j, tape)
        }
        return nodes.value(CellArchitecture.nodeCount - 1)
    }

    var members: [ModuleMember] {
        operations.compactMap { e, op in
            op.module.map { .child("e\(e).\(architecture.operations[e].name)", $0) }
        }
    }
}

// MARK: - The supernet's cell

/// A cell holding every operation of every edge: one weight set per (edge,
/// convolution), shared by all architectures that use it. Parameter names match a
/// trained cell's (`e3.nor_conv_3x3.conv.weight`).
final class SharedCell: CellModule {
    let convolutions1x1: [ReLUConvBN]
    let convolutions3x3: [ReLUConvBN]
    let pool = AveragePool3x3()

    init(channels: Int) {
        let edges = CellArchitecture.edgeCount
        // Candidate operations normalize without a learned scale (as in NAS-Bench-201's
        // search cells): a scale would let a convolution grow without its weight doing so.
        convolutions1x1 = (0..<edges).map { _ in ReLUConvBN(channels, channels, kernel: 1, normalization: .batchStatistics, affine: false) }
        convolutions3x3 = (0..<edges).map { _ in ReLUConvBN(channels, channels, kernel: 3, normalization: .batchStatistics, affine: false) }
    }

    func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        preconditionFailure("a supernet cell needs a path: set the supernet's path before the forward pass")
    }

    private func apply(_ op: CellOperation, edge: Int, node i: Int, _ nodes: inout CellNodes, _ tape: Tape) -> Tensor {
        switch op {
        case .none: preconditionFailure("'none' contributes nothing and is never applied")
        case .skipConnect: return nodes.value(i)
        case .averagePool3x3: return nodes.pooled(i, pool, tape)
        case .convolution1x1: return convolutions1x1[edge].forward(rectified: nodes.rectified(i, tape), tape)
        case .convolution3x3: return convolutions3x3[edge].forward(rectified: nodes.rectified(i, tape), tape)
        }
    }

    func forward(_ x: Tensor, _ tape: Tape, path: CellPath?) -> Tensor {
        guard let path else { preconditionFailure("a supernet cell needs a path: set the supernet's path before the forward pass") }
        var nodes = CellNodes(input: x)
        let output = CellArchitecture.nodeCount - 1
        switch path {
        case .single(let architecture):
            for e in architecture.liveEdges {
                let (i, j) = CellArchitecture.edges[e]
                let term = apply(architecture.operations[e], edge: e, node: i, &nodes, tape)
                nodes.accumulate(term, into: j, tape)
            }
            // A cell without a path from input to output outputs zeros.
            return nodes.valueIfAny(output) ?? tape.zeros(x.shape)
        case .mixture(let weights):
            // `none` is left out: its output is zero, and so is its weight's gradient.
            for e in 0..<CellArchitecture.edgeCount {
                let (i, j) = CellArchitecture.edges[e]
                for op in CellOperation.allCases where op != .none {
                    let term = apply(op, edge: e, node: i, &nodes, tape)
                    nodes.accumulate(nodes.scaled(term, by: weights.weight(edge: e, operation: op), tape), into: j, tape)
                }
            }
            return nodes.value(output)
        }
    }

    var members: [ModuleMember] {
        (0..<CellArchitecture.edgeCount).flatMap { e -> [ModuleMember] in
            [.child("e\(e).\(CellOperation.convolution1x1.name)", convolutions1x1[e]),
             .child("e\(e).\(CellOperation.convolution3x3.name)", convolutions3x3[e])]
        }
    }
}
