import CohortData
import CohortTensor
@testable import CohortFederated

/// A model small enough to train by hand, for testing the round engine exactly.
///
/// Its parameters are one point `w` in feature space; local SGD on the loss
/// `1/2 mean ||w - x||^2` (plus FedProx's and weight decay's terms) moves `w` toward the
/// mean of each minibatch: `w -= lr ((w - mean x) + mu (w - anchor) + wd w)`, with heavy-ball
/// momentum. With lr 1, no momentum and one full batch a client ends exactly at the mean
/// of its data, so FedAvg's global model is the sample-weighted mean of the clients' means.
/// A sample counts as correct when its label is the index of `w`'s largest coordinate,
/// modulo the class count, so accuracy moves with `w`.
final class CentroidModel: FederatedModel {
    let storage: UnsafeMutableBufferPointer<Float>
    let classCount: Int
    /// Every batch's indices, in order, as the last `train` call visited them.
    private(set) var lastBatches: [[Int]] = []

    init(width: Int, classCount: Int) {
        storage = .allocate(capacity: width)
        storage.initialize(repeating: 0)
        self.classCount = classCount
    }

    deinit { storage.deallocate() }

    var parameters: UnsafeMutableBufferPointer<Float> { storage }

    func initializeParameters(_ stream: RandomStream) {
        var random = stream
        for i in storage.indices { storage[i] = Float(random.normal()) }
    }

    func train(on data: Dataset, plan: LocalTrainingPlan) throws -> LocalTrainingReport {
        let hp = plan.hyperparameters
        var sampler = try MinibatchSampler(sampleCount: data.count, batchSize: hp.batchSize, seed: plan.seed, stream: plan.stream)
        let d = storage.count
        var velocity = [Float](repeating: 0, count: d)
        var mean = [Float](repeating: 0, count: d)
        var lossSum = 0.0, steps = 0
        lastBatches = []
        for epoch in 0 ..< plan.epochs {
            sampler.startEpoch(epoch)
            for b in 0 ..< sampler.batchCount {
                let batch = sampler.batchIndices(b)
                lastBatches.append(Array(batch))
                for j in 0 ..< d { mean[j] = 0 }
                var loss = 0.0
                for i in batch {
                    for j in 0 ..< d {
                        let x = data.features[i * d + j]
                        mean[j] += x / Float(batch.count)
                        loss += 0.5 * Double((storage[j] - x) * (storage[j] - x)) / Double(batch.count)
                    }
                }
                for j in 0 ..< d {
                    let g = (storage[j] - mean[j]) + Float(hp.proximalMu) * (storage[j] - plan.anchor[j])
                        + Float(hp.weightDecay) * storage[j]
                    velocity[j] = Float(hp.momentum) * velocity[j] + g
                    storage[j] -= Float(hp.learningRate) * velocity[j]
                }
                lossSum += loss
                steps += 1
            }
        }
        return LocalTrainingReport(lossSum: lossSum, steps: steps)
    }

    func evaluate(on data: Dataset) throws -> EvaluationSums {
        let d = storage.count
        var sums = EvaluationSums()
        let predicted = Int32((storage.indices.max { storage[$0] < storage[$1] } ?? 0) % classCount)
        for i in 0 ..< data.count {
            var loss = 0.0
            for j in 0 ..< d {
                let e = Double(storage[j] - data.features[i * d + j])
                loss += 0.5 * e * e
            }
            sums.lossSum += loss
            sums.correct += data.labels[i] == predicted ? 1 : 0
            sums.count += 1
        }
        return sums
    }
}

/// A small federation with known contents: client k's samples sit around a centre of
/// its own, with labels that make some centres better than others.
func smallFederation(clients: Int = 8, validationFraction: Double = 0.2, seed: UInt64 = 1) throws -> FederatedDataset {
    var random = RandomStream(seed: seed, stream: [99])
    var features: [Float] = []
    var labels: [Int32] = []
    let perClient = 30
    for k in 0 ..< clients {
        let count = perClient + 5 * k
        for _ in 0 ..< count {
            for j in 0 ..< 3 { features.append(Float(k % 3 == j ? 2 : 0) + Float(random.normal())) }
            labels.append(Int32(k % 3))
        }
    }
    let source = try Dataset(name: "small", sampleShape: [3], features: features, labels: labels, classCount: 3)
    return try FederatedDataset.partitioning(source, clients: clients, scheme: .shards(perClient: 1),
                                             validationFraction: validationFraction, testFraction: 0.2, seed: seed)
}
