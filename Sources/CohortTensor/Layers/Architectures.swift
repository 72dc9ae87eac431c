/// A model description that cannot be built (bad sizes from a config or command line).
public struct ArchitectureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Multilayer perceptron

/// Builds Linear-activation(-dropout) stacks: `sizes` = [inputs, hidden..., outputs].
public enum MLP {
    public static func make(sizes: [Int], activation: Activation.Kind = .relu, dropout: Float = 0,
                            batchNorm: Bool = false) throws -> Sequential {
        guard sizes.count >= 2 else { throw ArchitectureError("an MLP needs at least an input and an output size, got \(sizes)") }
        guard sizes.allSatisfy({ $0 > 0 }) else { throw ArchitectureError("MLP layer sizes must be positive, got \(sizes)") }
        guard dropout >= 0 && dropout < 1 else { throw ArchitectureError("dropout must be in [0, 1), got \(dropout)") }
        let hiddenInit: WeightInit = activation == .relu || activation == .gelu ? .kaimingUniform : .xavierUniform
        var layers: [Module] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Linear(sizes[i], sizes[i + 1], weightInit: i == sizes.count - 2 ? .xavierUniform : hiddenInit))
            if i < sizes.count - 2 {
                if batchNorm { layers.append(BatchNorm(sizes[i + 1])) }
                layers.append(Activation(activation))
                if dropout > 0 { layers.append(Dropout(dropout)) }
            }
        }
        return Sequential(layers)
    }
}

// MARK: - Small convolutional network

/// Two conv3x3-BN-ReLU-maxpool2 stages, then a hidden fully connected layer and the
/// classifier: sized for 1x28x28 (Fashion-MNIST) and 1x8x8 (UCI digits) images.
public enum SmallCNN {
    public static func make(channels: Int, height: Int, width: Int, classes: Int,
                            filters: (Int, Int) = (16, 32), hidden: Int = 128,
                            batchNorm: Bool = true, dropout: Float = 0) throws -> Sequential {
        guard channels > 0, classes > 1, filters.0 > 0, filters.1 > 0, hidden > 0 else {
            throw ArchitectureError("SmallCNN needs positive channels, filters and hidden size, and at least 2 classes")
        }
        guard height >= 4, width >= 4 else {
            throw ArchitectureError("SmallCNN pools twice by 2: inputs must be at least 4x4, got \(height)x\(width)")
        }
        func stage(_ cin: Int, _ cout: Int) -> [Module] {
            [Conv2d(cin, cout, kernel: 3, padding: 1, bias: !batchNorm)]
                + (batchNorm ? [BatchNorm(cout)] : [])
                + [Activation(.relu), MaxPool2d(kernel: 2)]
        }
        let flat = filters.1 * (height / 4) * (width / 4)
        var layers: [Module] = stage(channels, filters.0) + stage(filters.0, filters.1)
        layers += [Flatten(), Linear(flat, hidden), Activation(.relu)]
        if dropout > 0 { layers.append(Dropout(dropout)) }
        layers.append(Linear(hidden, classes, weightInit: .xavierUniform))
        return Sequential(layers)
    }
}
