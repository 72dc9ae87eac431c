/// A task's pixels and labels as a learner consumes them: support images with their way
/// labels, query images with theirs, each image `sampleShape`, row after row.
public struct TaskImages: Sendable {
    public var ways: Int
    public var sampleShape: [Int]
    public var support: [Float]
    public var supportLabels: [Int32]
    public var query: [Float]
    public var queryLabels: [Int32]

    public init(ways: Int, sampleShape: [Int], support: [Float], supportLabels: [Int32], query: [Float], queryLabels: [Int32]) {
        self.ways = ways
        self.sampleShape = sampleShape
        self.support = support
        self.supportLabels = supportLabels
        self.query = query
        self.queryLabels = queryLabels
    }

    /// The images of `episode` from `pool`: support (as chosen) then queries, way by way.
    public init(_ episode: Episode, pool: ClassPool) {
        let width = pool.dataset.featureCount
        func gather(_ lists: [[Int]]) -> ([Float], [Int32]) {
            let n = lists.reduce(0) { $0 + $1.count }
            var values = [Float](repeating: 0, count: n * width), labels: [Int32] = []
            values.withUnsafeMutableBufferPointer { out in
                var row = 0
                for (way, drawings) in lists.enumerated() {
                    for d in drawings {
                        pool.fill(class: episode.classes[way], drawing: d, into: out.baseAddress! + row * width)
                        labels.append(Int32(way))
                        row += 1
                    }
                }
            }
            return (values, labels)
        }
        (support, supportLabels) = gather(episode.support)
        (query, queryLabels) = gather(episode.queries)
        ways = episode.ways
        sampleShape = pool.dataset.sampleShape
    }

    public var supportCount: Int { supportLabels.count }
    public var queryCount: Int { queryLabels.count }
}
