/// Modules applied one after another; children are named "0", "1", ...
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) { self.layers = layers }
    public convenience init(_ layers: Module...) { self.init(layers) }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        var h = x
        for layer in layers { h = layer.forward(h, tape) }
        return h
    }

    public var members: [ModuleMember] {
        layers.enumerated().map { .child(String($0.offset), $0.element) }
    }
}
