/// One candidate operation on a cell edge, named as NAS-Bench-201 names it.
///
/// The convolutions are ReLU-Conv-BN with as many output channels as input channels and
/// stride 1; the pooling keeps the spatial size (3x3, stride 1, padding 1, the padded
/// positions left out of the average). `none` outputs zeros and `skipConnect` its input.
public enum CellOperation: String, CaseIterable, Codable, Sendable, Comparable {
    case none
    case skipConnect = "skip_connect"
    case convolution1x1 = "nor_conv_1x1"
    case convolution3x3 = "nor_conv_3x3"
    case averagePool3x3 = "avg_pool_3x3"

    /// The NAS-Bench-201 name (`nor_conv_3x3`, ...).
    public var name: String { rawValue }

    /// Position in `allCases`: the column of this operation in architecture weights.
    public var index: Int {
        switch self {
        case .none: return 0
        case .skipConnect: return 1
        case .convolution1x1: return 2
        case .convolution3x3: return 3
        case .averagePool3x3: return 4
        }
    }

    /// The operation at column `index`.
    public init(index: Int) {
        precondition(index >= 0 && index < CellOperation.allCases.count, "operation index \(index) outside 0..<5")
        self = CellOperation.allCases[index]
    }

    /// The operation named `name`, or an error that lists the known names.
    public init(named name: String) throws {
        guard let op = CellOperation(rawValue: name) else {
            throw NASInputError("unknown operation '\(name)' (expected one of \(CellOperation.allCases.map(\.name).joined(separator: ", ")))")
        }
        self = op
    }

    /// Whether the operation owns weights (the two convolutions).
    public var isParametric: Bool { self == .convolution1x1 || self == .convolution3x3 }

    /// Whether the edge carries anything at all.
    public var passesSignal: Bool { self != .none }

    public static func < (a: CellOperation, b: CellOperation) -> Bool { a.index < b.index }
}
