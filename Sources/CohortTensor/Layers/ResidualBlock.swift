/// The ResNet basic block: conv3x3-BN-ReLU-conv3x3-BN, plus a shortcut (identity, or
/// conv1x1-BN when the stride or channel count changes), then ReLU.
public final class ResidualBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    public let shortcut: Sequential?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1) {
        conv1 = Conv2d(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, bias: false, weightInit: .kaimingNormal)
        bn1 = BatchNorm(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernel: 3, stride: 1, padding: 1, bias: false, weightInit: .kaimingNormal)
        bn2 = BatchNorm(outChannels)
        shortcut = (stride != 1 || inChannels != outChannels)
            ? Sequential(Conv2d(inChannels, outChannels, kernel: 1, stride: stride, bias: false, weightInit: .kaimingNormal),
                         BatchNorm(outChannels))
            : nil
    }

    public func forward(_ x: Tensor, _ tape: Tape) -> Tensor {
        let h = tape.relu(bn1(conv1(x, tape), tape))
        let main = bn2(conv2(h, tape), tape)
        let skip = shortcut.map { $0(x, tape) } ?? x
        return tape.relu(tape.add(main, skip))
    }

    public var members: [ModuleMember] {
        [.child("conv1", conv1), .child("bn1", bn1), .child("conv2", conv2), .child("bn2", bn2)]
            + (shortcut.map { [.child("shortcut", $0)] } ?? [])
    }
}
