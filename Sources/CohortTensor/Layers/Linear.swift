/// Fully connected layer: y = x·Wᵀ + b with W shaped [out, in].
public final class Linear: Module {
    public let inputs: Int, outputs: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, weightInit: WeightInit = .kaimingUniform) {
        precondition(inputs > 0 && outputs > 0, "Linear needs positive sizes, got \(inputs) -> \(outputs)")
        self.inputs = inputs
        self.outputs = outputs
        weight = Parameter([outputs, inputs], initializer: weightInit.initializer(fanIn: inputs, fanOut: outputs))
        self.bias = bias ? Parameter([outputs], initializer: .zeros) : nil
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        tape.linear(x, weight: weight.tensor, bias: bias?.tensor)
    }

    public var members: [ModuleMember] {
        [.parameter("weight", weight)] + (bias.map { [.parameter("bias", $0)] } ?? [])
    }
}
