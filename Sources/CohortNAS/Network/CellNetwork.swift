import CohortTensor

/// A network of cells on the NAS-Bench-201 skeleton (see `NetworkSpec`): either one
/// architecture's network, trained from scratch, or the supernet that holds every
/// architecture's operations with shared weights.
///
/// Parameter names are the same in both where the operation is the same
/// (`stage1.cell0.e3.nor_conv_3x3.conv.weight`), and a `Model` seeds each parameter
/// from its name, so a trained network starts from the values the supernet started from.
public final class CellNetwork: Module {
    public enum Kind: Equatable, Sendable {
        case architecture(CellArchitecture)
        case supernet
    }

    public let kind: Kind
    public let spec: NetworkSpec
    /// Per-sample input shape [C, H, W].
    public let inputShape: [Int]
    public let classes: Int
    /// How a supernet's cells compute on the next forward pass. Ignored by a trained
    /// architecture's network.
    public var path: CellPath?

    let stem: Conv2d
    let stemNorm: Module
    let reductions: [ResidualReduction?]
    let cells: [[CellModule]]
    let headNorm: Module
    let classifier: Linear

    /// - Parameters:
    ///   - inputShape: one sample, [C, H, W].
    public init(_ kind: Kind, spec: NetworkSpec, inputShape: [Int], classes: Int) throws {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw NASInputError("a cell network takes images [channels, height, width], got samples of shape \(inputShape)")
        }
        guard classes > 1 else { throw NASInputError("a classifier needs at least 2 classes, got \(classes)") }
        try spec.validate(height: inputShape[1], width: inputShape[2])
        if case .architecture(let a) = kind { try a.requireConnected() }
        self.kind = kind
        self.spec = spec
        self.inputShape = inputShape
        self.classes = classes
        let normalization: NormalizationStyle = kind == .supernet ? .batchStatistics : .runningStatistics
        stem = Conv2d(inputShape[0], spec.channels, kernel: 3, stride: spec.stemStride, padding: 1, bias: false, weightInit: .kaimingNormal)
        stemNorm = normalization.make(spec.channels)
        var reductions: [ResidualReduction?] = []
        var cells: [[CellModule]] = []
        for (s, count) in spec.cellsPerStage.enumerated() {
            let c = spec.channels(stage: s)
            reductions.append(s == 0 ? nil : ResidualReduction(spec.channels(stage: s - 1), c, normalization: normalization))
            cells.append((0..<count).map { _ -> CellModule in
                switch kind {
                case .supernet: return SharedCell(channels: c)
                case .architecture(let a): return FixedCell(a, channels: c, normalization: normalization)
                }
            })
        }
        self.reductions = reductions
        self.cells = cells
        let last = spec.channels(stage: spec.cellsPerStage.count - 1)
        headNorm = normalization.make(last)
        classifier = Linear(last, classes, weightInit: .xavierUniform)
    }

    public var isSupernet: Bool { kind == .supernet }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        precondition(!isSupernet || path != nil, "set the supernet's path (one architecture or mixture weights) before the forward pass")
        var h = stemNorm.forward(stem.forward(x, tape), tape)
        for s in cells.indices {
            if let r = reductions[s] { h = r.forward(h, tape) }
            for cell in cells[s] { h = cell.forward(h, tape, path: path) }
        }
        h = tape.relu(headNorm.forward(h, tape))
        return classifier.forward(tape.globalAvgPool(h), tape)
    }

    public var members: [ModuleMember] {
        var m: [ModuleMember] = [.child("stem.conv", stem), .child("stem.bn", stemNorm)]
        for s in cells.indices {
            if let r = reductions[s] { m.append(.child("stage\(s).reduce", r)) }
            for (i, cell) in cells[s].enumerated() { m.append(.child("stage\(s).cell\(i)", cell)) }
        }
        m += [.child("head.bn", headNorm), .child("head.fc", classifier)]
        return m
    }

    /// [C, H, W] of a sample of `shape`: a flat square image is read as one channel.
    public static func imageShape(_ shape: [Int]) throws -> [Int] {
        switch shape.count {
        case 3: return shape
        case 2: return [1, shape[0], shape[1]]
        case 1:
            let side = Int(Double(shape[0]).squareRoot().rounded())
            guard side * side == shape[0] else {
                throw NASInputError("a cell network needs image samples; \(shape[0]) features are not a square image")
            }
            return [1, side, side]
        default:
            throw NASInputError("a cell network needs image samples [C, H, W], got \(shape)")
        }
    }
}
