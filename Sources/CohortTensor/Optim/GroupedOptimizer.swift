/// Several optimizers, each owning one contiguous range of a model's flat buffers: the
/// weights with one rule and the architecture parameters (``Model/groupRanges``) with
/// another, stepped together.
///
/// It is itself an ``Optimizer``, so checkpoints save every group's state (slots named
/// "<group index>.<slot>") and the step count without knowing about groups.
public final class GroupedOptimizer: Optimizer {
    public let groups: [(range: Range<Int>, optimizer: Optimizer)]

    /// `groups` must not overlap; parameters outside every range are left unchanged.
    public init(_ groups: [(range: Range<Int>, optimizer: Optimizer)]) throws {
        guard !groups.isEmpty else { throw OptimizerError(description: "a grouped optimizer needs at least one group") }
        let sorted = groups.map(\.range).sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.upperBound > b.lowerBound {
            throw OptimizerError(description: "parameter groups \(a) and \(b) overlap")
        }
        for g in groups where g.optimizer.state.contains(where: { $0.buffer.count != g.range.count }) {
            throw OptimizerError(description: "the \(g.optimizer.kind) optimizer of group \(g.range) holds state of another size")
        }
        self.groups = groups
    }

    public var kind: String { "groups(" + groups.map(\.optimizer.kind).joined(separator: ",") + ")" }

    /// The first group's schedule (the weights', by convention).
    public var schedule: LearningRateSchedule {
        get { groups[0].optimizer.schedule }
        set { groups[0].optimizer.schedule = newValue }
    }

    public var stepCount: Int {
        get { groups[0].optimizer.stepCount }
        set { for g in groups { g.optimizer.stepCount = newValue } }
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>) {
        precondition(parameters.count == gradients.count, "grouped optimizer: \(parameters.count) parameters, \(gradients.count) gradients")
        for g in groups {
            precondition(g.range.upperBound <= parameters.count, "parameter group \(g.range) outside \(parameters.count) parameters")
            g.optimizer.step(parameters: UnsafeMutableBufferPointer(rebasing: parameters[g.range]),
                             gradients: UnsafeBufferPointer(rebasing: gradients[g.range]))
        }
    }

    public var state: [(name: String, buffer: FlatState)] {
        groups.enumerated().flatMap { i, g in g.optimizer.state.map { ("\(i).\($0.name)", $0.buffer) } }
    }
}
