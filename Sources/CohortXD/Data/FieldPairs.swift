/// Input and target fields of a regression task (an operator to learn), held in
/// memory: sample i's input at i·inputCount ..< (i+1)·inputCount, its target likewise.
public struct FieldPairs: Sendable, Equatable {
    public var name: String
    /// One sample's input, e.g. [2, n] (u0 and the grid) and target, e.g. [1, n].
    public let inputShape: [Int], targetShape: [Int]
    public let inputs: [Float], targets: [Float]

    public init(name: String, inputShape: [Int], targetShape: [Int], inputs: [Float], targets: [Float]) throws {
        guard !inputShape.isEmpty, !targetShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }), targetShape.allSatisfy({ $0 > 0 }) else {
            throw XDInputError("\(name): field shapes \(inputShape) and \(targetShape) must have positive sizes")
        }
        let a = inputShape.reduce(1, *), b = targetShape.reduce(1, *)
        guard inputs.count % a == 0, targets.count % b == 0, inputs.count / a == targets.count / b else {
            throw XDInputError("\(name): \(inputs.count) input and \(targets.count) target values do not make whole samples of \(inputShape) and \(targetShape)")
        }
        self.name = name
        self.inputShape = inputShape
        self.targetShape = targetShape
        self.inputs = inputs
        self.targets = targets
    }

    public var inputCount: Int { inputShape.reduce(1, *) }
    public var targetCount: Int { targetShape.reduce(1, *) }
    public var count: Int { inputs.count / inputCount }

    /// The samples `range`.
    public func slice(_ range: Range<Int>, name: String) throws -> FieldPairs {
        try FieldPairs(name: name, inputShape: inputShape, targetShape: targetShape,
                       inputs: Array(inputs[(range.lowerBound * inputCount)..<(range.upperBound * inputCount)]),
                       targets: Array(targets[(range.lowerBound * targetCount)..<(range.upperBound * targetCount)]))
    }

    /// Copies samples `indices` into `input` and `target` (a batch), returns how many.
    func fill<C: Collection>(_ indices: C, input: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>) -> Int where C.Element == Int {
        let a = inputCount, b = targetCount
        var row = 0
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                for i in indices {
                    (input + row * a).update(from: x.baseAddress! + i * a, count: a)
                    (target + row * b).update(from: y.baseAddress! + i * b, count: b)
                    row += 1
                }
            }
        }
        return row
    }
}
