import Foundation
import CohortTensor

/// A NAS-Bench-201 cell: four nodes, node 0 the cell input and node 3 its output, and
/// one operation on each of the six edges i -> j (i < j). Node j is the sum of its
/// incoming edges. 5^6 = 15,625 cells; 15,284 of them connect input to output.
///
/// Edges are numbered in the order of the NAS-Bench-201 string, node by node and
/// input by input: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3.
public struct CellArchitecture: Hashable, Sendable, CustomStringConvertible {
    /// Nodes of a cell, input and output included.
    public static let nodeCount = 4
    /// The edges in string order, as (from, to).
    public static let edges: [(from: Int, to: Int)] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    public static var edgeCount: Int { edges.count }
    /// Number of cells in the space, connected or not.
    public static let spaceSize = 15_625

    /// The operation of each edge, in `edges` order.
    public let operations: [CellOperation]

    public init(_ operations: [CellOperation]) {
        precondition(operations.count == CellArchitecture.edgeCount, "a cell has \(CellArchitecture.edgeCount) edges, got \(operations.count) operations")
        self.operations = operations
    }

    /// The edge index of i -> j.
    public static func edge(from i: Int, to j: Int) -> Int {
        precondition(i >= 0 && i < j && j < nodeCount, "no edge \(i) -> \(j) in a cell")
        return j * (j - 1) / 2 + i
    }

    /// The operation on edge i -> j.
    public func operation(from i: Int, to j: Int) -> CellOperation { operations[CellArchitecture.edge(from: i, to: j)] }

    // MARK: Index (a stable number per cell)

    /// 0..<15625: the operations' indices read as base-5 digits, edge 0 least significant.
    public var index: Int {
        operations.reversed().reduce(0) { $0 * 5 + $1.index }
    }

    /// The cell numbered `index`.
    public init(index: Int) {
        precondition(index >= 0 && index < CellArchitecture.spaceSize, "cell index \(index) outside 0..<\(CellArchitecture.spaceSize)")
        var rest = index
        var ops: [CellOperation] = []
        for _ in 0..<CellArchitecture.edgeCount {
            ops.append(CellOperation(index: rest % 5))
            rest /= 5
        }
        self.init(ops)
    }

    /// Every cell of the space, by index.
    public static var all: [CellArchitecture] { (0..<spaceSize).map(CellArchitecture.init(index:)) }

    // MARK: Connectivity

    /// Nodes that receive a signal from the input through edges other than `none`.
    public var nodesReachedFromInput: Set<Int> {
        var reached: Set<Int> = [0]
        for j in 1..<Self.nodeCount {
            for i in 0..<j where reached.contains(i) && operation(from: i, to: j).passesSignal { reached.insert(j); break }
        }
        return reached
    }

    /// Nodes from which a signal reaches the output.
    public var nodesReachingOutput: Set<Int> {
        var reaching: Set<Int> = [Self.nodeCount - 1]
        for i in stride(from: Self.nodeCount - 2, through: 0, by: -1) {
            for j in (i + 1)..<Self.nodeCount where reaching.contains(j) && operation(from: i, to: j).passesSignal { reaching.insert(i); break }
        }
        return reaching
    }

    /// Whether some path of non-`none` edges leads from the cell input to its output.
    public var isConnected: Bool { nodesReachedFromInput.contains(Self.nodeCount - 1) }

    /// The edges that change the cell's output: not `none`, fed by a node the input
    /// reaches, leading to a node that reaches the output. Every other edge adds zeros
    /// or feeds nothing, so networks compute only these.
    public var liveEdges: [Int] {
        let from = nodesReachedFromInput, to = nodesReachingOutput
        return Self.edges.indices.filter { e in
            operations[e].passesSignal && from.contains(Self.edges[e].from) && to.contains(Self.edges[e].to)
        }
    }

    /// The same cell with `none` on every edge outside `liveEdges`. Cells with the same
    /// canonical form compute the same function and train the same network: a search
    /// compares canonical forms so that it never scores or retrains one cell twice.
    public var canonical: CellArchitecture {
        let live = Set(liveEdges)
        return CellArchitecture(operations.indices.map { live.contains($0) ? operations[$0] : .none })
    }

    /// How many different connected cells there are up to canonical form.
    public static let distinctConnectedCount = Set(all.filter(\.isConnected).map(\.canonical)).count

    /// Throws unless the cell connects input to output.
    public func requireConnected() throws {
        guard isConnected else {
            throw NASInputError("architecture \(nasBench201String) has no path from the cell input (node 0) to its output (node 3): every path crosses a 'none' edge")
        }
    }

    // MARK: Sampling

    /// A uniformly random connected cell, drawn from `rng` alone (rejection sampling:
    /// a disconnected cell outputs zeros, trains nothing and can never be chosen).
    public static func randomConnected(_ rng: inout RandomStream) -> CellArchitecture {
        while true {
            let cell = CellArchitecture(index: rng.index(below: spaceSize))
            if cell.isConnected { return cell }
        }
    }

    // MARK: NAS-Bench-201 string form

    /// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: node j lists each input i as `op~i`.
    public var nasBench201String: String {
        (1..<Self.nodeCount).map { j in
            "|" + (0..<j).map { i in "\(operation(from: i, to: j).name)~\(i)" }.joined(separator: "|") + "|"
        }.joined(separator: "+")
    }

    public var description: String { nasBench201String }

    /// Parses the NAS-Bench-201 string form. Inputs of a node may come in any order,
    /// but each exactly once. With `requireConnected` (the default) a cell without a
    /// path from input to output is an error too.
    public init(parsing text: String, requireConnected: Bool = true) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        func bad(_ why: String) -> NASInputError {
            NASInputError("architecture string '\(text)' does not parse: \(why) (expected the NAS-Bench-201 form |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)")
        }
        let groups = trimmed.split(separator: "+", omittingEmptySubsequences: false)
        guard groups.count == Self.nodeCount - 1 else {
            throw bad("found \(groups.count) node group\(groups.count == 1 ? "" : "s") separated by '+', need \(Self.nodeCount - 1)")
        }
        var ops = [CellOperation?](repeating: nil, count: Self.edgeCount)
        for (g, group) in groups.enumerated() {
            let j = g + 1
            guard group.hasPrefix("|"), group.hasSuffix("|"), group.count >= 2 else {
                throw bad("node \(j)'s group '\(group)' must start and end with '|'")
            }
            let items = group.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
            guard items.count == j else {
                throw bad("node \(j) must list \(j) input\(j == 1 ? "" : "s") (one per earlier node), found \(items.count)")
            }
            for item in items {
                let parts = item.split(separator: "~", omittingEmptySubsequences: false)
                guard parts.count == 2, let i = Int(parts[1]) else {
                    throw bad("'\(item)' in node \(j) is not of the form op~input")
                }
                guard i >= 0 && i < j else { throw bad("node \(j) cannot take input from node \(i) (only from 0..<\(j))") }
                let e = Self.edge(from: i, to: j)
                guard ops[e] == nil else { throw bad("node \(j) lists input \(i) twice") }
                ops[e] = try CellOperation(named: String(parts[0]))
            }
        }
        self.init(ops.map { $0! })
        if requireConnected { try self.requireConnected() }
    }
}
