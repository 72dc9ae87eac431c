import CohortData

/// The classes episodes are drawn from: a dataset's classes, each optionally in four
/// rotations by 90 degrees that count as four classes (Omniglot's convention).
///
/// Class `c` is source class `members[c / rotations]` turned by `(c % rotations) * 90`
/// degrees; rotating happens while a batch is filled, so no rotated copy is stored.
public struct ClassPool: Sendable {
    public let dataset: Dataset
    /// The source classes of this pool (meta-train and meta-test pools are disjoint).
    public let members: [Int]
    /// 4 with rotations, 1 without.
    public let rotations: Int
    /// The sample indices of each source class in `dataset`, by position in `members`.
    let samples: [[Int]]

    public init(dataset: Dataset, members: [Int], rotations: Bool) {
        self.dataset = dataset
        self.members = members
        self.rotations = rotations ? 4 : 1
        var byClass = [[Int]](repeating: [], count: dataset.classCount)
        for (i, label) in dataset.labels.enumerated() { byClass[Int(label)].append(i) }
        samples = members.map { byClass[$0] }
    }

    public var classCount: Int { members.count * rotations }

    /// The fewest drawings any class of the pool has.
    public var smallestClass: Int { samples.map(\.count).min() ?? 0 }

    /// Drawings of class `c`.
    public func count(of c: Int) -> Int { samples[c / rotations].count }

    /// Copies drawing `drawing` of class `c` (rotated) to `target` (one sample's values).
    public func fill(class c: Int, drawing: Int, into target: UnsafeMutablePointer<Float>) {
        let index = samples[c / rotations][drawing]
        let width = dataset.featureCount
        let turns = c % rotations
        dataset.features.withUnsafeBufferPointer { all in
            let source = all.baseAddress! + index * width
            let shape = dataset.sampleShape
            guard turns > 0, shape.count == 3, shape[1] == shape[2] else {
                target.update(from: source, count: width)
                return
            }
            let side = shape[1], plane = side * side
            for channel in 0..<shape[0] {
                let s = source + channel * plane, t = target + channel * plane
                for y in 0..<side {
                    for x in 0..<side {
                        // Quarter turns counter-clockwise.
                        let (sy, sx): (Int, Int)
                        switch turns {
                        case 1: (sy, sx) = (x, side - 1 - y)
                        case 2: (sy, sx) = (side - 1 - y, side - 1 - x)
                        default: (sy, sx) = (side - 1 - x, y)
                        }
                        t[y * side + x] = s[sy * side + sx]
                    }
                }
            }
        }
    }
}
