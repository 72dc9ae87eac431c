/// One part (train or test) of an ORCA task as flat arrays: every sample's input of
/// `width` values, and either its class or its target field.
public struct ORCASplit: Sendable, Equatable {
    public var inputs: [Float]
    public var width: Int
    /// Classes of a labelled task, empty for regression.
    public var labels: [Int32]
    /// Target fields of a regression task ([count × targetWidth]), empty for classes.
    public var targets: [Float]
    public var targetWidth: Int

    public var count: Int { inputs.count / width }

    public init(inputs: [Float], width: Int, labels: [Int32] = [], targets: [Float] = [], targetWidth: Int = 0) {
        self.inputs = inputs; self.width = width; self.labels = labels; self.targets = targets; self.targetWidth = targetWidth
    }

    public init(table: TabularData) {
        self.init(inputs: table.values, width: table.features, labels: table.labels)
    }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> ORCASplit {
        let k = min(n, count)
        return ORCASplit(inputs: Array(inputs.prefix(k * width)), width: width, labels: Array(labels.prefix(k)),
                         targets: Array(targets.prefix(k * targetWidth)), targetWidth: targetWidth)
    }
}
