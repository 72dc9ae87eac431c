import CohortFiles
import CohortTensor
import CohortTrain

/// The hyperparameters the character language model reads from a trial's
/// configuration; names the space leaves out take the defaults below.
///
/// | name            | values                 | default |
/// |-----------------|------------------------|---------|
/// | `learning_rate` | > 0                    | 0.002   |
/// | `optimizer`     | sgd (momentum 0.9), adam, adamw | adam |
/// | `batch_size`    | streams, 1...4096      | 32      |
/// | `embedding`     | 1...4096               | 16      |
/// | `hidden`        | 1...4096               | 128     |
/// | `layers`        | 1...8                  | 1       |
/// | `cell`          | lstm, gru              | lstm    |
/// | `clip_norm`     | >= 0 (0: no clipping)  | 5       |
public struct CharacterModelHyperparameters: Equatable, Sendable {
    public var learningRate = 0.002
    public var optimizer = OptimizerSpec.Kind.adam
    public var batchSize = 32
    public var embedding = 16
    public var hidden = 128
    public var layers = 1
    public var cell = RecurrentStack.Kind.lstm
    public var clipNorm = 5.0

    public init() {}

    public init(_ config: TrialConfig) {
        for entry in config.entries {
            let v = entry.value
            switch entry.name {
            case "learning_rate": learningRate = v.doubleValue ?? learningRate
            case "optimizer": optimizer = v.stringValue.flatMap(OptimizerSpec.Kind.init(rawValue:)) ?? optimizer
            case "batch_size": batchSize = v.intValue ?? batchSize
            case "embedding": embedding = v.intValue ?? embedding
            case "hidden": hidden = v.intValue ?? hidden
            case "layers": layers = v.intValue ?? layers
            case "cell": cell = v.stringValue.flatMap(RecurrentStack.Kind.init(rawValue:)) ?? cell
            case "clip_norm": clipNorm = v.doubleValue ?? clipNorm
            default: break
            }
        }
    }

    typealias Requirement = NetworkHyperparameters.Requirement

    static let requirements: [(name: String, requirement: Requirement)] = [
        ("learning_rate", .number(low: 0, openLow: true, high: .infinity, openHigh: false)),
        ("optimizer", .name(OptimizerSpec.Kind.allCases.map(\.rawValue))),
        ("batch_size", .whole(minimum: 1, maximum: 4096)),
        ("embedding", .whole(minimum: 1, maximum: 4096)),
        ("hidden", .whole(minimum: 1, maximum: 4096)),
        ("layers", .whole(minimum: 1, maximum: 8)),
        ("cell", .name(RecurrentStack.Kind.allCases.map(\.rawValue))),
        ("clip_norm", .number(low: 0, openLow: false, high: .infinity, openHigh: false)),
    ]

    /// Every problem with `space` as this model's hyperparameters.
    static func issues(in space: SearchSpace, path: String = "space") -> [ConfigIssue] {
        space.parameters.compactMap { p in
            let at = "\(path).\(p.name)"
            guard let requirement = requirements.first(where: { $0.name == p.name })?.requirement else {
                return ConfigIssue(path: at, message: "is not a hyperparameter of the char_lstm trainable (it reads \(requirements.map(\.name).joined(separator: ", ")))")
            }
            return NetworkHyperparameters.check(p.domain, against: requirement).map { ConfigIssue(path: at, message: $0) }
        }
    }
}
