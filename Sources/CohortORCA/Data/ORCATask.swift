import CohortCluster
import CohortTensor
import CohortXD

/// A task's data and the embedder and head its inputs need.
struct ORCATask: CustomStringConvertible {
    var train: ORCASplit, test: ORCASplit
    var tokens: Int
    var head: ORCANetwork.Head
    var patch: Int
    var description: String

    func embedder(width: Int, positions: [Float]?) -> Module {
        switch head {
        case .classes: return FeatureTokenEmbedder(features: train.width, width: width, positions: positions)
        case .patches: return PatchEmbedder(length: train.width, patch: patch, width: width, positions: positions)
        }
    }

    static func make(_ config: ORCAConfig, communicator: Communicator) throws -> ORCATask {
        switch config.task {
        case .tabular:
            let table = try TabularData.read(path: config.tabularPath)
            let (rawTrain, rawTest) = table.split(testFraction: config.testFraction, seed: config.dataSeed)
            let train = ORCASplit(table: rawTrain.standardized(by: rawTrain)).prefix(config.trainCount)
            let test = ORCASplit(table: rawTest.standardized(by: rawTrain))
            return ORCATask(train: train, test: test, tokens: table.features, head: .classes(table.classNames.count), patch: 1,
                            description: "\(table.name): \(train.count) train / \(test.count) test rows, \(table.features) features (one token each), \(table.classNames.count) classes")
        case .burgers:
            let b = config.burgers
            func split(_ count: Int, first: Int, _ name: String) throws -> ORCASplit {
                let pairs = try b.pairs(count: count, seed: config.dataSeed, firstIndex: first, name: name, communicator: communicator)
                // u0 only: the grid channel is the same for every sample, and the position
                // embeddings already say where a patch lies.
                let n = b.resolution
                var inputs: [Float] = []
                inputs.reserveCapacity(count * n)
                for i in 0..<pairs.count { inputs += pairs.inputs[(i * 2 * n)..<((i * 2 + 1) * n)] }
                return ORCASplit(inputs: inputs, width: n, targets: pairs.targets, targetWidth: n)
            }
            let train = try split(config.trainCount, first: 0, "burgers/train")
            let test = try split(config.testCount, first: config.trainCount, "burgers/test")
            return ORCATask(train: train, test: test, tokens: b.resolution / config.patch, head: .patches(config.patch), patch: config.patch,
                            description: "Burgers: \(train.count) train / \(test.count) test pairs on \(b.resolution) points, \(b.resolution / config.patch) patches of \(config.patch)")
        }
    }
}
