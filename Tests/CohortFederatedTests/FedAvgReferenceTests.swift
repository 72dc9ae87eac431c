import CohortCluster
import CohortData
import CohortTensor
import Foundation
import XCTest
@testable import CohortFederated

/// Cohort's FedAvg against a plain single-process FedAvg written here from scratch:
/// multinomial logistic regression in Double with hand-derived gradients, local SGD,
/// sample-weighted averaging. Both see the same generated data, the same clients in
/// each round and the same minibatch order (the streams are public rules of the seed),
/// so they must agree to float rounding; the acceptance bar is 0.01 in pooled test
/// accuracy.
///
/// The published setting: Synthetic(1, 1), 10 clients per round, E = 20, batch 10,
/// lr 0.01, 200 rounds, with COHORT_FULL_ACCEPTANCE=1 (use a release build:
/// `COHORT_FULL_ACCEPTANCE=1 swift test -c release --filter FedAvgReferenceTests`);
/// otherwise 6 rounds of E = 2, which a debug build runs in seconds.
final class FedAvgReferenceTests: XCTestCase {
    static var full: Bool { ProcessInfo.processInfo.environment["COHORT_FULL_ACCEPTANCE"] == "1" }
    static var rounds: Int { full ? 200 : 6 }
    static var epochs: Int { full ? 20 : 2 }
    static var evaluateEvery: Int { full ? 10 : 2 }

    func testCohortFedAvgMatchesAPlainFedAvgOnSyntheticOneOne() throws {
        let seed: UInt64 = 0
        let data = try SyntheticFedProx(alpha: 1, beta: 1).generate(seed: seed)
        let settings = RoundSettings(rounds: Self.rounds, sampling: ClientSampling(clientsPerRound: 10),
                                     local: LocalHyperparameters(learningRate: 0.01, epochs: Self.epochs, batchSize: 10),
                                     evaluateEvery: Self.evaluateEvery, seed: seed)

        // Cohort, on 3 in-process ranks.
        let factory = try FederatedModelCatalog.standard.factory(for: FederatedModelSpec(type: "logistic", fields: [("type", .string("logistic"))]))
        let cohort = try LocalCommunicator.map(ranks: 3) { comm -> (accuracies: [Double], global: [Float]) in
            let model = try factory.makeModel(sampleShape: data.sampleShape, classCount: data.classCount)
            let rounds = try FederatedRounds(settings: settings, data: data, model: model, communicator: comm)
            var accuracies: [Double] = []
            while !rounds.isFinished {
                try rounds.runRound()
                if rounds.isEvaluationDue { accuracies.append(try rounds.evaluate().test.accuracy) }
            }
            return (accuracies, rounds.global)
        }[0]

        // The plain reference.
        var reference = PlainFedAvg(features: 60, classes: 10)
        let sampler = try ClientSampler(sampling: settings.sampling, population: data.clients.count, seed: seed)
        var referenceAccuracies: [Double] = []
        for round in 0 ..< Self.rounds {
            try reference.round(data: data, clients: sampler.participants(round: round).selected, round: round, seed: seed,
                                epochs: Self.epochs, batchSize: 10, learningRate: 0.01)
            if (round + 1) % Self.evaluateEvery == 0 || round + 1 == Self.rounds {
                referenceAccuracies.append(reference.pooledTestAccuracy(data))
            }
        }

        print("FedAvg Synthetic(1,1) test accuracy every \(Self.evaluateEvery) rounds")
        print("  cohort:    \(cohort.accuracies.map { String(format: "%.4f", $0) }.joined(separator: " "))")
        print("  reference: \(referenceAccuracies.map { String(format: "%.4f", $0) }.joined(separator: " "))")
        XCTAssertEqual(cohort.accuracies.count, referenceAccuracies.count)
        for (a, b) in zip(cohort.accuracies, referenceAccuracies) { XCTAssertEqual(a, b, accuracy: 0.01) }
        XCTAssertGreaterThan(cohort.accuracies.last!, Self.full ? 0.75 : 0.3)

        // Parameters agree too: Cohort's flat buffer is the Linear layer's weight
        // [classes, features] then its bias.
        let (w, b) = (reference.weights, reference.bias)
        let expected = w.map(Float.init) + b.map(Float.init)
        let scale = expected.map(abs).max()!
        let gap = zip(cohort.global, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(gap, 2e-3 * scale, "largest parameter gap \(gap) against largest parameter \(scale)")
    }
}

/// FedAvg (McMahan et al. 2017) with multinomial logistic regression, in Double.
struct PlainFedAvg {
    let features: Int, classes: Int
    /// Row-major [classes, features].
    var weights: [Double]
    var bias: [Double]

    init(features: Int, classes: Int) {
        self.features = features
        self.classes = classes
        weights = [Double](repeating: 0, count: classes * features)
        bias = [Double](repeating: 0, count: classes)
    }

    /// One round: every client starts from the global model, runs `epochs` of minibatch
    /// SGD, and the new global model is the sample-weighted mean of the clients' models.
    mutating func round(data: FederatedDataset, clients: [Int], round: Int, seed: UInt64,
                        epochs: Int, batchSize: Int, learningRate: Double) throws {
        var sumW = [Double](repeating: 0, count: weights.count), sumB = [Double](repeating: 0, count: classes)
        var total = 0.0
        let (d, k) = (features, classes)
        var gW = [Double](repeating: 0, count: weights.count), gB = [Double](repeating: 0, count: classes)
        var x = [Double](repeating: 0, count: d), p = [Double](repeating: 0, count: k)
        for client in clients {
            let train = data.clients[client].train
            var w = weights, b = bias
            var order = try MinibatchSampler(sampleCount: train.count, batchSize: batchSize, seed: seed,
                                             stream: [StreamPurpose.localTraining, UInt64(round), UInt64(client)])
            for epoch in 0 ..< epochs {
                order.startEpoch(epoch)
                for batch in 0 ..< order.batchCount {
                    let indices = order.batchIndices(batch)
                    for i in gW.indices { gW[i] = 0 }
                    for c in 0 ..< k { gB[c] = 0 }
                    for i in indices {
                        for j in 0 ..< d { x[j] = Double(train.features[i * d + j]) }
                        var top = -Double.infinity
                        for c in 0 ..< k {
                            var z = b[c]
                            for j in 0 ..< d { z += w[c * d + j] * x[j] }
                            p[c] = z
                            top = max(top, z)
                        }
                        var sum = 0.0
                        for c in 0 ..< k { p[c] = exp(p[c] - top); sum += p[c] }
                        for c in 0 ..< k {
                            let delta = (p[c] / sum - (Int(train.labels[i]) == c ? 1 : 0)) / Double(indices.count)
                            gB[c] += delta
                            for j in 0 ..< d { gW[c * d + j] += delta * x[j] }
                        }
                    }
                    for i in w.indices { w[i] -= learningRate * gW[i] }
                    for c in 0 ..< k { b[c] -= learningRate * gB[c] }
                }
            }
            let n = Double(train.count)
            for i in w.indices { sumW[i] += n * w[i] }
            for c in 0 ..< k { sumB[c] += n * b[c] }
            total += n
        }
        weights = sumW.map { $0 / total }
        bias = sumB.map { $0 / total }
    }

    /// Accuracy over every client's test samples together.
    func pooledTestAccuracy(_ data: FederatedDataset) -> Double {
        var correct = 0, count = 0
        for client in data.clients {
            let test = client.test
            for i in 0 ..< test.count {
                var best = 0, bestLogit = -Double.infinity
                for c in 0 ..< classes {
                    var z = bias[c]
                    for j in 0 ..< features { z += weights[c * features + j] * Double(test.features[i * features + j]) }
                    if z > bestLogit { bestLogit = z; best = c }
                }
                correct += best == Int(test.labels[i]) ? 1 : 0
                count += 1
            }
        }
        return Double(correct) / Double(count)
    }

    static func softmax(_ z: [Double]) -> [Double] {
        let top = z.max()!
        let e = z.map { exp($0 - top) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
