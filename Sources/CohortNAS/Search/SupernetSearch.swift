import CohortFiles
import CohortCluster
import CohortData
import CohortTensor
import CohortTune
import Foundation

private typealias K = NASRunFiles.Key

/// One epoch of supernet training, summed over ranks.
public struct SupernetEpoch: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var loss: Double
    public var accuracy: Double
    public var steps: Int
    public var seconds: Double
    public var learningRate: Float
    /// GAEA and DARTS: the cell the architecture weights point at after the epoch.
    public var derived: CellArchitecture?
    /// GAEA and DARTS with `derive_from: best_epoch`: the supernet's (mixture's)
    /// accuracy on the validation split after the epoch.
    public var validationAccuracy: Double?

    public var stepsPerSecond: Double { Double(steps) / Swift.max(seconds, 1e-9) }

    var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [
            (K.epoch, .int(epoch)), (K.loss, .double(loss)), (K.accuracy, .double(accuracy)), (K.steps, .int(steps)),
            (K.seconds, .double(seconds)), (K.stepsPerSecond, .double(stepsPerSecond)), (K.learningRate, .double(Double(learningRate))),
        ]
        if let derived { m.append((K.derived, .string(derived.nasBench201String))) }
        if let validationAccuracy { m.append((K.validationAccuracy, .double(validationAccuracy))) }
        return .object(m)
    }
}

/// What supernet training produced.
public struct SupernetReport: Sendable {
    public var strategy: NASConfig.Strategy
    public var steps: Int
    public var epochs: [SupernetEpoch]
    /// Seconds spent in training steps (data, forward, backward, allreduce, update).
    public var seconds: Double
    public var ranks: Int
    public var parameterCount: Int
    /// How many times every rank's weights were compared and found identical.
    public var replicaChecks: Int
    /// FNV-1a of the supernet weights' and architecture weights' bits.
    public var digest: String
    /// FNV-1a of the architecture weights alone (GAEA, DARTS).
    public var architectureDigest: String?
    /// Final architecture weights, per edge (GAEA, DARTS).
    public var architectureWeights: [[Double]]?
    /// The cell the search returns (GAEA, DARTS): derived from the final architecture
    /// weights, or from those of ``derivedEpoch`` under `derive_from: best_epoch`.
    public var derived: CellArchitecture?
    public var derivedExcludedNone = false
    /// The epoch (1-based) whose weights gave ``derived``.
    public var derivedEpoch: Int?

    public var stepsPerSecond: Double { Double(steps) / Swift.max(seconds, 1e-9) }
}

/// Trains a supernet with one of the three strategies, data-parallel over the ranks of
/// a communicator. Every rank runs the same loop; rank 0 (the one with a recorder)
/// writes the logs.
///
/// - RSWS: each step trains the single architecture drawn for that step from the
///   stream (seed, step), uniform over the cells that connect input to output.
/// - GAEA and DARTS, bilevel: a weight step on a training batch through the mixture
///   (architecture weights fixed), then an architecture step on a validation batch
///   (weights fixed), or the two the other way round (`step_order:
///   architecture_first`, as the authors' code); single-level: one step on a training
///   batch moves both. During the first `warmupEpochs` epochs only the weights move.
///   The cell returned is derived from the final architecture weights, or with
///   `derive_from: best_epoch` from the weights after the epoch whose supernet scored
///   best on the whole validation split.
final class SupernetSearch {
    let config: NASConfig
    let data: NASData
    let communicator: Communicator
    let trainer: SupernetTrainer
    let architecture: ArchitectureWeights?
    let recorder: RunRecorder?
    private(set) var step = 0
    private(set) var replicaChecks = 0

    init(config: NASConfig, data: NASData, communicator: Communicator, recorder: RunRecorder?) throws {
        self.config = config
        self.data = data
        self.communicator = communicator
        self.recorder = recorder
        let network = try CellNetwork(.supernet, spec: config.network, inputShape: data.imageShape, classes: data.classes)
        let stepsPerEpoch = Swift.max(1, data.train.count / config.search.batchSize)
        let largest = Swift.max(config.search.batchSize, config.scoringBatchSize)
        trainer = try SupernetTrainer(network: network, seed: config.seed, optimizer: { count in
            do {
                return try config.search.optimizer.make(parameterCount: count, stepsPerEpoch: stepsPerEpoch, epochs: config.search.epochs)
            } catch {
                throw NASInputError("search.\(error)")
            }
        }, gradientClip: config.search.gradientClip, largestBatch: largest, communicator: communicator,
           synchronisedStatistics: config.search.syncBatchNorm)
        switch config.strategy {
        case .rsws: architecture = nil
        case .gaea: architecture = SimplexArchitectureWeights(eta: config.gaea.eta, clamp: config.gaea.clamp,
                                                              entropyWeight: config.gaea.entropyWeight, adaptStep: config.gaea.adaptStep)
        case .darts: architecture = try SoftmaxArchitectureWeights(seed: config.seed, settings: config.darts)
        }
    }

    var singleLevel: Bool { config.strategy == .gaea ? config.gaea.singleLevel : config.darts.singleLevel }
    var warmupEpochs: Int { config.strategy == .gaea ? config.gaea.warmupEpochs : config.darts.warmupEpochs }
    var stepOrder: NASConfig.StepOrder { config.strategy == .gaea ? config.gaea.stepOrder : config.darts.stepOrder }
    var deriveFrom: NASConfig.DeriveFrom { config.strategy == .gaea ? config.gaea.deriveFrom : config.darts.deriveFrom }

    /// The architecture supernet step `step` trains under RSWS: the same on every rank.
    static func sampledArchitecture(seed: UInt64, step: Int) -> CellArchitecture {
        var rng = RandomStream(seed: seed, stream: [StreamPurpose.architectureSampling, UInt64(step)])
        return CellArchitecture.randomConnected(&rng)
    }

    // MARK: Training

    /// Trains for the configured epochs (or `maxSteps` steps, for benchmarks).
    func train(maxSteps: Int? = nil, progress: (SupernetEpoch) -> Void = { _ in }) throws -> SupernetReport {
        let batch = config.search.batchSize
        var trainOrder = try MinibatchSampler(sampleCount: data.train.count, batchSize: batch, seed: config.seed,
                                              stream: [StreamPurpose.searchBatches], dropLast: true)
        var validationBatches = try ValidationBatches(count: data.validation.count, batchSize: batch, seed: config.seed)
        var epochs: [SupernetEpoch] = []
        var trainSeconds = 0.0
        var best: (accuracy: Double, epoch: Int, derived: (architecture: CellArchitecture, excludedNone: Bool))?
        try record(epoch: 0)

        training: for epoch in 0..<config.search.epochs {
            trainOrder.startEpoch(epoch)
            var totals = SupernetTrainer.Totals()
            let rate = trainer.optimizer.currentLearningRate
            let started = DispatchTime.now().uptimeNanoseconds
            var stepsThisEpoch = 0
            for b in 0..<trainOrder.batchCount {
                if let maxSteps, step >= maxSteps { break }
                let shard = trainOrder.shardIndices(batch: b, rank: communicator.rank, rankCount: communicator.size)
                try trainStep(shard, epoch: epoch, totals: &totals, validationBatches: &validationBatches)
                step += 1
                stepsThisEpoch += 1
                if step % config.search.verifyEvery == 0 { try verify() }
                if step % config.search.recordEvery == 0 { try record(epoch: epoch) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            trainSeconds += seconds
            var sums = [totals.lossSum, Double(totals.correct), Double(totals.samples)]
            if communicator.size > 1 { try communicator.allreduce(&sums, op: .sum) }
            var validationAccuracy: Double?
            if let architecture, deriveFrom == .bestEpoch {
                let accuracy = try validationScoring.scoreMixture(architecture).accuracy
                validationAccuracy = accuracy
                if best == nil || accuracy > best!.accuracy { best = (accuracy, epoch + 1, architecture.derive()) }
            }
            let report = SupernetEpoch(epoch: epoch + 1, epochs: config.search.epochs, loss: sums[0] / Swift.max(sums[2], 1),
                                       accuracy: sums[1] / Swift.max(sums[2], 1), steps: stepsThisEpoch, seconds: seconds,
                                       learningRate: rate, derived: architecture?.derive().architecture,
                                       validationAccuracy: validationAccuracy)
            epochs.append(report)
            try recorder?.append(report.json, to: NASRunFiles.supernetLog)
            progress(report)
            if let maxSteps, step >= maxSteps { break training }
        }
        if step % config.search.recordEvery != 0 { try record(epoch: epochs.count) }
        let digest = try verify()
        var architectureDigest: String?
        if let architecture {
            var d = WeightDigest()
            d.add(architecture.learnedValues)
            architectureDigest = d.hex
        }
        let derived = best?.derived ?? architecture?.derive()
        return SupernetReport(strategy: config.strategy, steps: step, epochs: epochs, seconds: trainSeconds, ranks: communicator.size,
                              parameterCount: trainer.model.parameterCount, replicaChecks: replicaChecks,
                              digest: String(digest, radix: 16), architectureDigest: architectureDigest,
                              architectureWeights: architecture?.weightsJSONRows, derived: derived?.architecture,
                              derivedExcludedNone: derived?.excludedNone ?? false,
                              derivedEpoch: architecture == nil ? nil : (best?.epoch ?? epochs.count))
    }

    /// Scores the supernet's mixture on the validation split, spread over the ranks.
    private var validationScoring: CandidateScoring {
        CandidateScoring(trainer: trainer, validation: data.validation, communicator: communicator, seed: config.seed,
                         batchSize: config.scoringBatchSize)
    }

    /// One step of the strategy on this rank's `shard` of a training batch.
    private func trainStep(_ shard: ArraySlice<Int>, epoch: Int, totals: inout SupernetTrainer.Totals,
                           validationBatches: inout ValidationBatches) throws {
        let batch = config.search.batchSize
        guard let weights = architecture else {
            let cell = Self.sampledArchitecture(seed: config.seed, step: step)
            try recordSample(cell)
            _ = try trainer.step(data.train, shard: shard, batchCount: batch, updateWeights: true, totals: &totals) { _ in (.single(cell), nil) }
            return
        }
        let movesArchitecture = epoch >= warmupEpochs
        if singleLevel || !movesArchitecture {
            // One step on the training batch; it moves the architecture too when single-level.
            let trainable = singleLevel && movesArchitecture
            let g = try trainer.step(data.train, shard: shard, batchCount: batch, updateWeights: true, totals: &totals) { tape in
                Self.mixturePath(weights, tape, trainable: trainable)
            }
            if let g { weights.update(gradient: g) }
            return
        }
        // Bilevel: weights on the training batch and the architecture on a validation
        // batch, in the configured order.
        if stepOrder == .architectureFirst { try architectureStep(weights, validationBatches: &validationBatches) }
        _ = try trainer.step(data.train, shard: shard, batchCount: batch, updateWeights: true, totals: &totals) { tape in
            Self.mixturePath(weights, tape, trainable: false)
        }
        if stepOrder == .weightsFirst { try architectureStep(weights, validationBatches: &validationBatches) }
    }

    /// One architecture step on the next validation batch, the supernet weights fixed.
    func architectureStep(_ weights: ArchitectureWeights, validationBatches: inout ValidationBatches) throws {
        let (validationShard, validationCount) = validationBatches.next(rank: communicator.rank, rankCount: communicator.size)
        var ignored = SupernetTrainer.Totals()
        let g = try trainer.step(data.validation, shard: validationShard, batchCount: validationCount, updateWeights: false,
                                 totals: &ignored) { tape in
            Self.mixturePath(weights, tape, trainable: true)
        }
        weights.update(gradient: g!)
    }

    /// The validation batches of architecture steps, one after another, epoch after
    /// epoch (the same order on every rank).
    struct ValidationBatches {
        private var order: MinibatchSampler
        private var epoch = 0, batch = 0

        init(count: Int, batchSize: Int, seed: UInt64) throws {
            order = try MinibatchSampler(sampleCount: count, batchSize: Swift.min(batchSize, count), seed: seed,
                                         stream: [StreamPurpose.architectureBatches], dropLast: true)
        }

        /// This rank's shard of the next batch, and the batch's size.
        mutating func next(rank: Int, rankCount: Int) -> (ArraySlice<Int>, Int) {
            if batch == order.batchCount {
                epoch += 1
                batch = 0
                order.startEpoch(epoch)
            }
            defer { batch += 1 }
            return (order.shardIndices(batch: batch, rank: rank, rankCount: rankCount), order.batchSize)
        }
    }

    static func mixturePath(_ weights: ArchitectureWeights, _ tape: Tape, trainable: Bool) -> (CellPath, Tensor?) {
        let (w, variable) = weights.mixture(on: tape, trainable: trainable)
        return (.mixture(MixtureWeights(w, tape: tape)), variable)
    }

    @discardableResult
    private func verify() throws -> UInt64 {
        let d = try trainer.verifyReplicas(step: step, architectureValues: architecture?.learnedValues ?? [])
        replicaChecks += 1
        return d
    }

    // MARK: Records (rank 0)

    private func record(epoch: Int) throws {
        guard let recorder, let architecture else { return }
        var m: [(key: String, value: JSONValue)] = [
            (K.step, .int(step)), (K.epoch, .int(epoch)),
            (K.weights, .array(architecture.weightsJSONRows.map { .array($0.map(JSONValue.double)) })),
        ]
        if architecture is SoftmaxArchitectureWeights {
            m.append((K.logits, .array(architecture.learnedValues.map(JSONValue.double))))
        }
        m.append((K.derived, .string(architecture.derive().architecture.nasBench201String)))
        try recorder.append(.object(m), to: NASRunFiles.architectureWeightsLog)
    }

    private func recordSample(_ cell: CellArchitecture) throws {
        try recorder?.append(.object([(K.step, .int(step)), (K.architecture, .string(cell.nasBench201String))]),
                             to: NASRunFiles.sampledArchitecturesLog)
    }

    // MARK: Checkpoint

    /// The trained supernet: weights, optimizer state, the step, and the architecture
    /// weights in the metadata (JSON), with everything needed to know how it was made.
    func checkpoint() -> Checkpoint {
        var metadata: [String: String] = [
            "strategy": config.strategy.rawValue, "seed": String(config.seed), "steps": String(step),
            "network.channels": String(config.network.channels),
            "network.cells": config.network.cellsPerStage.map(String.init).joined(separator: ","),
            "network.stem_stride": String(config.network.stemStride),
            "dataset": config.dataset, "config": config.sourceText,
        ]
        if let architecture {
            metadata["architecture_weights"] = JSONValue.array(architecture.learnedValues.map(JSONValue.double)).description
            metadata["architecture_weights_kind"] = architecture is SoftmaxArchitectureWeights ? "logits" : "simplex"
        }
        return Checkpoint(model: trainer.model, optimizer: trainer.optimizer,
                          randomStreams: ["architecture_sampling": RandomStream(seed: config.seed, stream: [StreamPurpose.architectureSampling])],
                          step: step, metadata: metadata)
    }
}
