import CohortTensor

/// Which network to build, independent of the data it will see.
///
/// - `mlp`: Linear layers of sizes `hidden` between the flattened input and the classes.
/// - `cnn`: `SmallCNN` (two conv3x3-BN-ReLU-maxpool stages of `filters`, a `dense` layer).
/// - `resnet`: a stem conv3x3 of `filters[0]`, one residual block per entry of
///   `filters` (stride 2 from the second on), global average pooling, the classifier.
public struct ModelSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case mlp, cnn, resnet }

    public var kind = Kind.mlp
    public var hidden = [128]
    public var activation = Activation.Kind.relu
    public var dropout: Float = 0
    public var batchNorm = false
    public var filters = [16, 32]
    public var dense = 128

    public init() {}

    static let keys: Set<String> = ["kind", "hidden", "activation", "dropout", "batchNorm", "filters", "dense"]

    init(_ r: ConfigReader) throws {
        try r.rejectUnknown(Self.keys)
        if let k = try r.string("kind") {
            guard let kind = Kind(rawValue: k) else {
                throw ConfigError("\(r.name("kind")) must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(k)'")
            }
            self.kind = kind
        }
        hidden = try r.ints("hidden") ?? hidden
        if let a = try r.string("activation") {
            guard let act = Activation.Kind(rawValue: a) else {
                throw ConfigError("\(r.name("activation")) must be one of \(Activation.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(a)'")
            }
            activation = act
        }
        dropout = try r.float("dropout") ?? dropout
        batchNorm = try r.bool("batchNorm") ?? batchNorm
        filters = try r.ints("filters") ?? filters
        dense = try r.int("dense") ?? dense
    }

    public func validate() throws {
        guard hidden.allSatisfy({ $0 > 0 }) else { throw ConfigError("model.hidden sizes must be positive, got \(hidden)") }
        guard dropout >= 0 && dropout < 1 else { throw ConfigError("model.dropout must be in [0, 1), got \(dropout)") }
        guard filters.allSatisfy({ $0 > 0 }) else { throw ConfigError("model.filters must be positive, got \(filters)") }
        guard dense > 0 else { throw ConfigError("model.dense must be positive, got \(dense)") }
        if kind == .cnn && filters.count != 2 { throw ConfigError("model.filters of a cnn has two entries, got \(filters)") }
        if kind == .resnet && filters.isEmpty { throw ConfigError("model.filters of a resnet needs at least one entry") }
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
                throw ConfigError("a convolutional model needs image samples; \(s[0]) features are not a square image")
            }
            return [1, side, side]
        default:
            throw ConfigError("a convolutional model needs samples shaped [C, H, W], got \(s)")
        }
    }
}
