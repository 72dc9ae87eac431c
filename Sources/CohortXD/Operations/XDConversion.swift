import CohortTensor

/// A module that holds convolutions inside a structure of its own (not a `Sequential`)
/// and knows how to rebuild itself with each replaced.
public protocol XDConvertible: Module {
    /// This module with every convolution replaced by `replace(conv, its input)`, and
    /// the module's output for `x` (the conversion traces shapes through the network).
    func convertedToXD(_ x: Tensor, _ tape: Tape, replace: (Module, Tensor) throws -> (Module, Tensor)) throws -> (Module, Tensor)
}

/// Turns a network built from convolutions into one whose convolutions are
/// XD-operations sharing the same weights.
///
/// The conversion traces one evaluation pass of a zero batch through the network to
/// learn each convolution's input size (an XD-operation is sized for its input), and
/// rebuilds `Sequential`s and ``XDConvertible`` modules around the replacements. Each
/// replacement keeps the convolution's parameter objects under the same names, so a
/// `Model` of the converted network made with the same seed starts from the same
/// weights as the backbone's, and `convert(model:...)` carries trained values over.
public struct XDConversion {
    /// K-matrix depth of every replacement.
    public var depth = 1
    /// Whether 1x1 (pointwise) convolutions are replaced too; by default they stay, as
    /// an XD-operation adds nothing a pointwise channel mix needs.
    public var includePointwise = false

    public init(depth: Int = 1, includePointwise: Bool = false) {
        self.depth = depth
        self.includePointwise = includePointwise
    }

    /// `root` with its convolutions replaced, for samples of `sampleShape` ([C, L] or
    /// [C, H, W]). The result shares parameter objects with `root`: use one or the other.
    public func convert(_ root: Module, sampleShape: [Int]) throws -> (module: Module, replaced: Int) {
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }), sampleShape.count <= 3 else {
            throw XDInputError("sample shape \(sampleShape) must be [C, L] or [C, H, W] with positive sizes")
        }
        let tape = Tape(mode: .evaluation)
        let x = tape.zeros(Shape([2] + sampleShape))
        var replaced = 0
        let (module, _) = try convert(root, x, tape, count: &replaced)
        return (module, replaced)
    }

    /// A model of the converted network holding `model`'s values (weights, batch-norm
    /// statistics) under the same names; the K-matrices start at the transforms.
    public func convert(model: Model, sampleShape: [Int], seed: UInt64) throws -> (model: Model, replaced: Int) {
        let values = Dictionary(uniqueKeysWithValues: model.parameters.entries.map { ($0.name, Array(model.parameters[$0.name]!)) }
            + model.state.entries.map { ("state:" + $0.name, Array(model.state[$0.name]!)) })
        let (module, replaced) = try convert(model.root, sampleShape: sampleShape)
        let converted = Model(module, seed: seed)
        func carry(_ buffer: FlatBuffer, _ key: (String) -> String) {
            for e in buffer.entries {
                guard let v = values[key(e.name)], v.count == e.count else { continue }
                let target = buffer[e.name]!
                for i in target.indices { target[i] = v[i] }
            }
        }
        carry(converted.parameters) { $0 }
        carry(converted.state) { "state:" + $0 }
        return (converted, replaced)
    }

    private func convert(_ module: Module, _ x: Tensor, _ tape: Tape, count: inout Int) throws -> (Module, Tensor) {
        switch module {
        case let conv as Conv2d:
            guard includePointwise || conv.kernel > 1 else { return (conv, conv(x, tape)) }
            count += 1
            let xd = try XDOperation(weight: conv.weight, bias: conv.bias, inputSize: [x.shape[2], x.shape[3]],
                                     stride: conv.stride, padding: conv.padding, mode: .zero, depth: depth)
            return (xd, conv(x, tape))
        case let conv as Conv1d:
            guard includePointwise || conv.kernel > 1 else { return (conv, conv(x, tape)) }
            count += 1
            let xd = try XDOperation(weight: conv.weight, bias: conv.bias, inputSize: [x.shape[2]],
                                     stride: conv.stride, padding: conv.padding, mode: conv.paddingMode, depth: depth)
            return (xd, conv(x, tape))
        case let sequence as Sequential:
            var layers: [Module] = [], h = x
            for layer in sequence.layers {
                let (converted, y) = try convert(layer, h, tape, count: &count)
                layers.append(converted)
                h = y
            }
            return (Sequential(layers), h)
        case let custom as XDConvertible:
            var local = 0
            let result = try custom.convertedToXD(x, tape) { inner, input in try convert(inner, input, tape, count: &local) }
            count += local
            return result
        default:
            if XDConversion.holdsConvolution(module) {
                throw XDInputError("cannot convert \(type(of: module)): it holds convolutions but is neither a Sequential nor XDConvertible")
            }
            return (module, module(x, tape))
        }
    }

    static func holdsConvolution(_ module: Module) -> Bool {
        if module is Conv1d || module is Conv2d { return true }
        return module.members.contains { if case .child(_, let c) = $0 { return holdsConvolution(c) } else { return false } }
    }
}
