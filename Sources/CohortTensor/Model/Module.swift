/// A learnable (or stored) tensor owned by a layer.
///
/// Until a `Model` packs it, a parameter has storage of its own; after packing its
/// `tensor` is a view into the model's flat parameter buffer, and its gradient a view
/// into the flat gradient buffer. Layers always read `tensor` at forward time, so they
/// never notice the move.
public final class Parameter {
    public let shape: Shape
    public let initializer: Initializer
    /// False for state that is saved but not learned (batch-norm running statistics).
    public let isTrainable: Bool
    /// The parameter group ("" for the model's weights): a `Model` lays each group out as
    /// one contiguous range of its flat buffer, so a second optimizer can own a group
    /// (architecture parameters beside weights).
    public let group: String
    public internal(set) var tensor: Tensor

    public init(_ shape: Shape, initializer: Initializer, trainable: Bool = true, group: String = "") {
        self.shape = shape
        self.initializer = initializer
        self.isTrainable = trainable
        self.group = group
        tensor = Tensor(zeros: shape)
        tensor.requiresGrad = trainable
    }
}

/// A stream of random numbers owned by a layer (dropout masks). A `Model` seeds it from
/// its own seed and the layer's name, and checkpoints save its position.
public final class RandomSource {
    public var stream: RandomStream
    public init(_ stream: RandomStream = RandomStream(seed: 0)) { self.stream = stream }
}

/// One named thing a module owns.
public enum ModuleMember {
    case parameter(String, Parameter)
    case child(String, Module)
    case random(String, RandomSource)
}

/// A layer or a composition of layers.
///
/// A module names what it owns (`members`); `Model` walks that tree to lay every
/// parameter out in one flat buffer under dotted names ("0.weight",
/// "block1.bn1.running_mean"). `forward` reads `tape.mode` to choose training or
/// evaluation behaviour.
public protocol Module: AnyObject {
    func forward(_ x: Tensor, _ tape: Tape) -> Tensor
    /// Parameters, buffers, random sources and submodules, in a stable order.
    var members: [ModuleMember] { get }
}

extension Module {
    public var members: [ModuleMember] { [] }
    public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor { forward(x, tape) }

    /// Every parameter (trainable or not) under its dotted name, depth first.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var out: [(String, Parameter)] = []
        for m in members {
            switch m {
            case .parameter(let n, let p): out.append((prefix + n, p))
            case .child(let n, let c): out += c.namedParameters(prefix: prefix + n + ".")
            case .random: break
            }
        }
        return out
    }

    /// Every random source under its dotted name.
    public func namedRandomSources(prefix: String = "") -> [(name: String, source: RandomSource)] {
        var out: [(String, RandomSource)] = []
        for m in members {
            switch m {
            case .random(let n, let r): out.append((prefix + n, r))
            case .child(let n, let c): out += c.namedRandomSources(prefix: prefix + n + ".")
            case .parameter: break
            }
        }
        return out
    }
}
