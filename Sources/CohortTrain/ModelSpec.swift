import CohortFiles
import CohortTensor

/// Which network to build, independent of the data it will see.
///
/// - `mlp`: Linear layers of sizes `hidden` between the flattened input and the classes.
/// - `cnn`: `SmallCNN` (two conv3x3-BN-ReLU-maxpool stages of `filters`, a `dense` layer).
/// - `resnet`: a stem conv3x3 of `filters[0]`, one residual block per entry of
///   `filters` (stride 2 from the second on), global average pooling, the classifier.
public struct ModelSpec: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable { case mlp, cnn, resnet }

    public var kind = Kind.mlp
    public var hidden = [128]
    public var activation = Activation.Kind.relu
    public var dropout: Float = 0
    public var batchNorm = false
    public var filters = [16, 32]
    public var dense = 128

    public init() {}

    /// Layer widths beyond this are refused before any allocation is sized from them.
    public static let maximumWidth = 1 << 16
    /// Hidden layers beyond this are refused: deeper plain MLPs do not train anyway.
    public static let maximumDepth = 256

    /// Reads the `model:` section (`type`, `hidden`, `activation`, `dropout`,
    /// `batch_norm`, `filters`, `dense`).
    public init(_ s: ConfigSection) {
        kind = s.choice("type", kind)
        hidden = s.integers("hidden", min: 1, max: Self.maximumWidth) ?? hidden
        activation = s.choice("activation", activation)
        dropout = Float(s.double("dropout", default: Double(dropout), min: 0, below: 1))
        batchNorm = s.bool("batch_norm", default: batchNorm)
        filters = s.integers("filters", min: 1, max: Self.maximumWidth) ?? filters
        dense = s.int("dense", default: dense, min: 1, max: Self.maximumWidth)
        s.finish()
    }

    /// Records every inconsistency (after flags changed the values read).
    func validate(_ issues: ConfigIssues) {
        if !hidden.allSatisfy({ (1 ... Self.maximumWidth).contains($0) }) {
            issues.add("model.hidden", "sizes must be between 1 and \(Self.maximumWidth), got \(hidden)")
        }
        if !(dropout >= 0 && dropout < 1) { issues.add("model.dropout", "must be in [0, 1), got \(dropout)") }
        if !filters.allSatisfy({ (1 ... Self.maximumWidth).contains($0) }) {
            issues.add("model.filters", "must be between 1 and \(Self.maximumWidth), got \(filters)")
        }
        if !(1 ... Self.maximumWidth).contains(dense) { issues.add("model.dense", "must be between 1 and \(Self.maximumWidth), got \(dense)") }
        if kind == .cnn && filters.count != 2 { issues.add("model.filters", "a cnn has two entries, got \(filters)") }
        if kind == .resnet && filters.isEmpty { issues.add("model.filters", "a resnet needs at least one entry") }
    }

    public func validate() throws {
        let issues = ConfigIssues()
        validate(issues)
        try issues.throwIfAny()
    }

    /// The section in the dialect it is read in.
    public var document: JSONValue {
        .object([("type", .string(kind.rawValue)), ("hidden", .array(hidden.map { .number(Double($0)) })),
                 ("activation", .string(activation.rawValue)), ("dropout", .number(Double("\(dropout)") ?? Double(dropout))),
                 ("batch_norm", .bool(batchNorm)), ("filters", .array(filters.map { .number(Double($0)) })),
                 ("dense", .number(Double(dense)))])
    }

    /// The network for samples of `sampleShape` and `classes` outputs, and the per-sample
    /// shape it takes (flat for an MLP; [C, H, W] for convolutional models, with a flat
    /// square input read as one channel, e.g. 64 → [1, 8, 8]).
    public func build(sampleShape: [Int], classes: Int) throws -> (module: Module, inputShape: [Int]) {
        try validate()
        let features = sampleShape.reduce(1, *)
        switch kind {
        case .mlp:
            let net = try MLP.make(sizes: [features] + hidden + [classes], activation: activation,
                                   dropout: dropout, batchNorm: batchNorm)
            return (net, [features])
        case .cnn, .resnet:
            let image = try Self.imageShape(sampleShape)
            if kind == .cnn {
                let net = try SmallCNN.make(channels: image[0], height: image[1], width: image[2], classes: classes,
                                            filters: (filters[0], filters[1]), hidden: dense, batchNorm: true, dropout: dropout)
                return (net, image)
            }
            var layers: [Module] = [Conv2d(image[0], filters[0], kernel: 3, padding: 1, bias: false, weightInit: .kaimingNormal),
                                    BatchNorm(filters[0]), CohortTensor.Activation(.relu)]
            var channels = filters[0]
            for (i, f) in filters.enumerated() {
                layers.append(ResidualBlock(channels, f, stride: i == 0 ? 1 : 2))
                channels = f
            }
            layers += [GlobalAvgPool(), Linear(channels, classes, weightInit: .xavierUniform)]
            return (Sequential(layers), image)
        }
    }

    static func imageShape(_ s: [Int]) throws -> [Int] {
        switch s.count {
        case 3: return s
        case 2: return [1, s[0], s[1]]
        case 1:
            let side = Int(Double(s[0]).squareRoot().rounded())
            guard side * side == s[0] else {
                throw ConfigError(at: "model.type", "a convolutional model needs image samples; \(s[0]) features are not a square image")
            }
            return [1, side, side]
        default:
            throw ConfigError(at: "model.type", "a convolutional model needs samples shaped [C, H, W], got \(s)")
        }
    }
}
