import CohortFiles
import CohortTensor
import CohortTrain

/// The hyperparameters the built-in networks (`mlp`, `cnn`) read from a trial's
/// configuration, by the names a search space uses for them.
///
/// A name in the space that the network does not read is an error, and so is a range
/// that can produce an unusable value (a negative learning rate, dropout 1), both
/// reported when the config is loaded rather than as failed trials. Hyperparameters the
/// space leaves out take the defaults below; a plain scalar in the space fixes one.
///
/// | name            | networks | values                  | default |
/// |-----------------|----------|-------------------------|---------|
/// | `learning_rate` | both     | > 0                     | 0.05    |
/// | `momentum`      | both     | [0, 1) (SGD)            | 0.9     |
/// | `weight_decay`  | both     | >= 0                    | 0       |
/// | `batch_size`    | both     | whole, >= 1             | 64      |
/// | `dropout`       | both     | [0, 1)                  | 0       |
/// | `optimizer`     | both     | sgd, adam, adamw        | sgd     |
/// | `activation`    | mlp      | relu, tanh, sigmoid, gelu | relu  |
/// | `depth`         | mlp      | hidden layers, >= 0     | 1       |
/// | `width`         | mlp      | units per hidden layer  | 128     |
/// | `width_1` ...   | mlp      | units of hidden layer k (overrides `width`) | |
/// | `batch_norm`    | mlp      | true, false             | false   |
/// | `filters`       | cnn      | first stage's filters; the second has twice as many | 16 |
/// | `dense`         | cnn      | units of the dense layer | 128    |
public struct NetworkHyperparameters: Equatable, Sendable {
    public var learningRate: Double = 0.05
    public var momentum: Double = 0.9
    public var weightDecay: Double = 0
    public var batchSize = 64
    public var dropout: Double = 0
    public var optimizer = OptimizerSpec.Kind.sgd
    public var activation = Activation.Kind.relu
    public var depth = 1
    public var width = 128
    /// Widths of individual hidden layers (`width_1` is the first), overriding `width`.
    public var layerWidths: [Int: Int] = [:]
    public var batchNorm = false
    public var filters = 16
    public var dense = 128

    public init() {}

    /// The values of `config`, defaults for the names it does not hold.
    public init(_ config: TrialConfig) {
        for entry in config.entries {
            let v = entry.value
            switch entry.name {
            case "learning_rate": learningRate = v.doubleValue ?? learningRate
            case "momentum": momentum = v.doubleValue ?? momentum
            case "weight_decay": weightDecay = v.doubleValue ?? weightDecay
            case "batch_size": batchSize = v.intValue ?? batchSize
            case "dropout": dropout = v.doubleValue ?? dropout
            case "optimizer": optimizer = v.stringValue.flatMap(OptimizerSpec.Kind.init(rawValue:)) ?? optimizer
            case "activation": activation = v.stringValue.flatMap(Activation.Kind.init(rawValue:)) ?? activation
            case "depth": depth = v.intValue ?? depth
            case "width": width = v.intValue ?? width
            case "batch_norm": batchNorm = v.intValue.map { $0 != 0 } ?? batchNorm
            case "filters": filters = v.intValue ?? filters
            case "dense": dense = v.intValue ?? dense
            default:
                if let k = Self.layerIndex(entry.name), let w = v.intValue { layerWidths[k] = w }
            }
        }
    }

    /// The hidden layer sizes of an MLP.
    public var hiddenSizes: [Int] {
        (0..<depth).map { layerWidths[$0 + 1] ?? width }
    }

    /// The network as CohortTrain builds it.
    public func modelSpec(kind: ModelSpec.Kind) -> ModelSpec {
        var m = ModelSpec()
        m.kind = kind
        m.hidden = hiddenSizes
        m.activation = activation
        m.dropout = Float(dropout)
        m.batchNorm = batchNorm
        m.filters = [filters, 2 * filters]
        m.dense = dense
        return m
    }

    /// The update rule; its learning-rate schedule is set by the trainable.
    public func optimizerSpec(schedule: OptimizerSpec.Schedule) -> OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = optimizer
        o.learningRate = Float(learningRate)
        o.momentum = optimizer == .sgd ? Float(momentum) : 0
        o.weightDecay = Float(weightDecay)
        o.schedule = schedule
        return o
    }

    // MARK: Names and their ranges

    /// What values a hyperparameter accepts.
    enum Requirement {
        /// A number in `low...high` (`low` excluded when `openLow`, `high` excluded when `openHigh`).
        case number(low: Double, openLow: Bool, high: Double, openHigh: Bool)
        /// A whole number in `minimum...maximum`.
        case whole(minimum: Int, maximum: Int)
        /// One of these names.
        case name([String])
        case flag

        var summary: String {
            switch self {
            case let .number(low, openLow, high, openHigh):
                if high == .infinity { return openLow ? "a number above \(ParameterValue.format(low))" : "a number of at least \(ParameterValue.format(low))" }
                return "a number in \(openLow ? "(" : "[")\(ParameterValue.format(low)), \(ParameterValue.format(high))\(openHigh ? ")" : "]")"
            case let .whole(minimum, maximum): return "a whole number from \(minimum) to \(maximum)"
            case let .name(names): return "one of \(names.joined(separator: ", "))"
            case .flag: return "true or false"
            }
        }

        func accepts(_ v: ParameterValue) -> Bool {
            switch self {
            case let .number(low, openLow, high, openHigh):
                guard let d = v.doubleValue, v.stringValue == nil, d.isFinite else { return false }
                if case .bool = v { return false }
                return (openLow ? d > low : d >= low) && (openHigh ? d < high : d <= high)
            case let .whole(minimum, maximum):
                if case .bool = v { return false }
                guard let i = v.intValue else { return false }
                return i >= minimum && i <= maximum
            case let .name(names):
                return v.stringValue.map(names.contains) ?? false
            case .flag:
                if case .bool = v { return true }
                return false
            }
        }
    }

    /// The names a network of `kind` reads, with what each accepts.
    static func requirements(kind: ModelSpec.Kind) -> [(name: String, requirement: Requirement)] {
        var r: [(String, Requirement)] = [
            ("learning_rate", .number(low: 0, openLow: true, high: .infinity, openHigh: false)),
            ("momentum", .number(low: 0, openLow: false, high: 1, openHigh: true)),
            ("weight_decay", .number(low: 0, openLow: false, high: .infinity, openHigh: false)),
            ("batch_size", .whole(minimum: 1, maximum: TrainingConfig.maximumBatch)),
            ("dropout", .number(low: 0, openLow: false, high: 1, openHigh: true)),
            ("optimizer", .name(OptimizerSpec.Kind.allCases.map(\.rawValue))),
        ]
        switch kind {
        case .mlp:
            r += [("activation", .name(Activation.Kind.allCases.map(\.rawValue))), ("depth", .whole(minimum: 0, maximum: ModelSpec.maximumDepth)),
                  ("width", .whole(minimum: 1, maximum: ModelSpec.maximumWidth)), ("batch_norm", .flag)]
        case .cnn, .resnet:
            r += [("filters", .whole(minimum: 1, maximum: ModelSpec.maximumWidth)), ("dense", .whole(minimum: 1, maximum: ModelSpec.maximumWidth))]
        }
        return r
    }

    /// `k` for a name `width_k` (k >= 1).
    static func layerIndex(_ name: String) -> Int? {
        guard name.hasPrefix("width_"), let k = Int(name.dropFirst("width_".count)), k >= 1, k <= ModelSpec.maximumDepth else { return nil }
        return k
    }

    /// Every problem with `space` as the hyperparameters of a network of `kind`.
    static func issues(in space: SearchSpace, kind: ModelSpec.Kind, path: String = "space") -> [ConfigIssue] {
        let known = requirements(kind: kind)
        var issues: [ConfigIssue] = []
        for p in space.parameters {
            let at = "\(path).\(p.name)"
            let requirement: Requirement
            if let r = known.first(where: { $0.name == p.name })?.requirement {
                requirement = r
            } else if kind == .mlp, layerIndex(p.name) != nil {
                requirement = .whole(minimum: 1, maximum: ModelSpec.maximumWidth)
            } else {
                let names = known.map(\.name) + (kind == .mlp ? ["width_1", "width_2", "..."] : [])
                issues.append(ConfigIssue(path: at, message: "is not a hyperparameter of the \(kind.rawValue) trainable (it reads \(names.joined(separator: ", ")))"))
                continue
            }
            if let problem = check(p.domain, against: requirement) {
                issues.append(ConfigIssue(path: at, message: problem))
            }
        }
        return issues
    }

    /// Why `domain` can produce a value the requirement refuses, or `nil`.
    static func check(_ domain: ParameterDomain, against requirement: Requirement) -> String? {
        let expected = "must be \(requirement.summary)"
        switch domain {
        case let .uniform(low, high), let .logUniform(low, high):
            switch requirement {
            case .number:
                for end in [low, high] where !requirement.accepts(.double(end)) {
                    return "\(expected); the range reaches \(ParameterValue.format(end))"
                }
                return nil
            case .whole: return "\(expected): use type int or a choice of whole numbers"
            case .name, .flag: return "\(expected): use a choice"
            }
        case let .integer(low, high, _):
            for end in [low, high] where !requirement.accepts(.int(end)) {
                return "\(expected); the range reaches \(end)"
            }
            return nil
        case let .choice(values), let .grid(values):
            if let bad = values.first(where: { !requirement.accepts($0) }) { return "\(expected), got \(bad)" }
            return nil
        case let .constant(v):
            return requirement.accepts(v) ? nil : "\(expected), got \(v)"
        case let .gridded(base, _):
            return check(base, against: requirement)
        }
    }
}
