/// The labelled points meta-training may use, and how they are allocated.
///
/// A budget of B labelled points with tasks of L = ways x (shots + queries) labelled
/// points each allows floor(B / L) distinct tasks: meta-training cycles over exactly
/// those (task ids 0..<T, each always the same classes and drawings), so fewer labels per
/// task buys more tasks and the other way round. Without a budget every meta-batch draws
/// fresh tasks ("all labels" of the meta-train classes).
public struct SupervisionBudget: Sendable, Equatable {
    /// Total labelled points, or nil for all.
    public let total: Int?
    public let labelsPerTask: Int

    public init(total: Int?, ways: Int, shots: Int, queries: Int) throws {
        let perTask = ways * (shots + queries)
        if let total {
            guard total >= perTask else {
                throw MetaInputError("budget \(total) is smaller than one task: \(ways) ways x (\(shots) shots + \(queries) queries) = \(perTask) labelled points")
            }
        }
        self.total = total
        labelsPerTask = perTask
    }

    /// Distinct tasks the budget pays for (nil: unlimited).
    public var taskCount: Int? { total.map { $0 / labelsPerTask } }

    /// Labelled points the allocation actually uses.
    public var used: Int? { taskCount.map { $0 * labelsPerTask } }

    /// The id of the task at meta-batch slot `slot` of meta-iteration `step`: distinct ids
    /// without a budget, a cycle over the budget's tasks with one.
    public func taskID(step: Int, slot: Int, metaBatch: Int) -> Int {
        let n = step * metaBatch + slot
        guard let count = taskCount else { return n }
        return n % count
    }
}
