import CohortCluster
import CohortData
import CohortTensor

/// Federated training rounds as SPMD: every rank runs the same loop over one
/// `Communicator`; rank 0 is the server only in that its copy of the global model is
/// the one broadcast.
///
/// One round, on every rank:
/// 1. Draw the round's clients and stragglers from streams named by (seed, round);
///    assign the contributing clients to ranks by `RoundAssignment` (balanced by work).
/// 2. Each rank trains its clients one after another on its one model instance: copy
///    the global model in, train locally (FedEx: with the configuration the client
///    draws, then score it on the client's validation samples), add `n_k * w_k` to the
///    round buffer and write the client's statistics in its own slot.
/// 3. ONE sum-allreduce of the round buffer, laid out as
///    `[n_k-weighted parameter sums (P) | total weight | per-client slots]`. A slot is
///    written by exactly one rank and is zero on the others, so the statistics arrive
///    bit-exact everywhere whatever the reduction order.
/// 4. The server step on the weighted average (identically on every rank), the FedEx
///    update from the slots (identical inputs, identical result), then a broadcast of
///    rank 0's global model so every rank holds the same bits.
public final class FederatedRounds {
    public let settings: RoundSettings
    public let data: FederatedDataset
    public let communicator: Communicator
    public let sampler: ClientSampler

    /// The global model, identical on every rank between rounds.
    public private(set) var global: [Float]
    public private(set) var server: ServerOptimizer
    public private(set) var fedex: FedExDistribution?
    /// Rounds finished; the next round to run has this index.
    public private(set) var completedRounds: Int

    private let model: FederatedModel
    private var roundBuffer: [Float]
    private var average: [Float]
    /// Clients each rank scores, fixed for the run: indices into `data.clients`, then
    /// into `data.heldOutClients`.
    private let evaluationPlan: (training: [Int], heldOut: [Int])
    /// Clients each rank fine-tunes for `evaluateFineTuned()`, balanced by training samples.
    private let fineTunePlan: (training: [Int], heldOut: [Int])

    // MARK: Slot layout

    /// Per contributing client: mean train loss, weight, validation loss, validation
    /// weight, then one drawn index per FedEx categorical.
    private var slotWidth: Int { Self.slotWidth(settings) }
    private static func slotWidth(_ settings: RoundSettings) -> Int { 4 + (settings.fedex?.space.sizes.count ?? 0) }
    private var parameterCount: Int { global.count }

    // MARK: Starting

    /// A new run: rank 0's model draws the initial global model from the stream named by
    /// the seed, and every rank receives it.
    public init(settings: RoundSettings, data: FederatedDataset, model: FederatedModel,
                communicator: Communicator) throws {
        try settings.validate(for: data)
        self.settings = settings
        self.data = data
        self.model = model
        self.communicator = communicator
        sampler = try ClientSampler(sampling: settings.sampling, population: data.clients.count, seed: settings.seed)
        let count = model.parameters.count
        model.initializeParameters(RandomStream(seed: settings.seed, stream: [StreamPurpose.modelInit]))
        global = Array(model.parameters)
        server = try ServerOptimizer(settings: settings.server, parameterCount: count)
        fedex = try settings.fedex.map { try FedExDistribution(sizes: $0.space.sizes, settings: $0.settings) }
        completedRounds = 0
        roundBuffer = [Float](repeating: 0, count: count + 1 + sampler.perRound * Self.slotWidth(settings))
        average = [Float](repeating: 0, count: count)
        evaluationPlan = Self.evaluationPlan(data: data, rank: communicator.rank, ranks: communicator.size) {
            $0.test.count + $0.validation.count
        }
        fineTunePlan = Self.evaluationPlan(data: data, rank: communicator.rank, ranks: communicator.size) {
            $0.train.count + $0.test.count + $0.validation.count
        }
        try communicator.broadcast(&global, root: 0)
    }

    /// Continues from a saved state (a checkpoint); every rank must pass the same state.
    public convenience init(settings: RoundSettings, data: FederatedDataset, model: FederatedModel,
                            communicator: Communicator, state: RoundState) throws {
        try self.init(settings: settings, data: data, model: model, communicator: communicator)
        guard state.global.count == global.count else {
            throw FederatedError.unsatisfiable(
                "the checkpoint holds a model of \(state.global.count) parameters, this model has \(global.count)")
        }
        guard state.server.settings == settings.server, state.fedex?.settings == settings.fedex?.settings,
              state.fedex?.sizes == settings.fedex?.space.sizes else {
            throw FederatedError.unsatisfiable("the checkpoint was written with other server or FedEx settings")
        }
        global = state.global
        server = state.server
        fedex = state.fedex
        completedRounds = state.completedRounds
        try communicator.broadcast(&global, root: 0)
    }

    /// What a checkpoint must hold to continue exactly.
    public var state: RoundState {
        RoundState(completedRounds: completedRounds, global: global, server: server, fedex: fedex)
    }

    /// FNV-1a over the bits of the global model: equal digests mean bit-identical models
    /// (with overwhelming probability), so journals of two runs compare model by model.
    public var globalDigest: UInt64 { WeightDigest.of(global) }

    /// Whether every configured round has run.
    public var isFinished: Bool { completedRounds >= settings.rounds }

    /// Whether the global model is due for evaluation after the last completed round.
    public var isEvaluationDue: Bool {
        completedRounds > 0 && (completedRounds % settings.evaluateEvery == 0 || completedRounds == settings.rounds)
    }

    // MARK: One round

    /// Runs the next round on every rank (a collective call).
    @discardableResult
    public func runRound() throws -> RoundRecord {
        let round = completedRounds
        let participants = sampler.participants(round: round)
        let contributing = participants.contributing
        // A client drawn twice (sampling with replacement) trains twice, each time on
        // streams of its own: its later occurrences add their number to the identity.
        let occurrences = contributing.indices.map { i in contributing[..<i].filter { $0 == contributing[i] }.count }
        func repeated(_ i: Int) -> [UInt64] { occurrences[i] == 0 ? [] : [StreamPurpose.repeatedClient, UInt64(occurrences[i])] }
        let draws = contributing.indices.map { fedexDraw(round: round, client: contributing[$0], repeated: repeated($0)) }
        let localSettings = try draws.map { try hyperparameters(for: $0) }
        let epochs = zip(contributing, localSettings).map { client, hp in
            sampler.localEpochs(round: round, client: client, epochs: hp.epochs, participants: participants)
        }
        let plan = RoundAssignment.assign(
            clients: Array(contributing.indices),
            work: { self.data.clients[contributing[$0]].train.count * epochs[$0] },
            ranks: communicator.size)

        // Local training of this rank's clients.
        let p = parameterCount
        let width = slotWidth
        roundBuffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        for position in plan[communicator.rank] {
            let clientIndex = contributing[position]
            let client = data.clients[clientIndex]
            let parameters = model.parameters
            global.withUnsafeBufferPointer { _ = parameters.update(fromContentsOf: $0) }
            let validationLoss = settings.fedex?.validationLoss ?? .error
            // FedEx's difference mode: the global model's loss on the same samples first.
            var lossBefore = 0.0
            if settings.fedex?.reportsDifference == true, client.validation.count > 0 {
                lossBefore = validationLoss.value(try model.evaluate(on: client.validation))
            }
            let report: LocalTrainingReport
            do {
                report = try global.withUnsafeBufferPointer { anchor in
                    try model.train(on: client.train, plan: LocalTrainingPlan(
                        hyperparameters: localSettings[position], epochs: epochs[position], seed: settings.seed,
                        stream: [StreamPurpose.localTraining, UInt64(round), UInt64(clientIndex)] + repeated(position), anchor: anchor))
                }
            } catch is LocalTrainingDiverged {
                report = LocalTrainingReport(lossSum: .infinity, steps: 1)
            }
            // A client whose training diverged sends nothing to the average (one
            // non-finite value would poison the global model) and reports FedEx the worst
            // outcome: an error of 1, or an infinite cross-entropy.
            let diverged = !parameters.allSatisfy(\.isFinite) || !report.meanLoss.isFinite
            let weight: Float = diverged ? 0 : Float(client.train.count)
            var validation = EvaluationSums()
            if fedex != nil || settings.scoresClientsAfterTraining, client.validation.count > 0 {
                validation = diverged ? EvaluationSums(lossSum: .infinity, count: client.validation.count)
                                      : try model.evaluate(on: client.validation)
            }
            roundBuffer.withUnsafeMutableBufferPointer { buffer in
                if !diverged {
                    for i in 0 ..< p { buffer[i] += weight * parameters[i] }
                    buffer[p] += weight
                }
                let slot = p + 1 + position * width
                buffer[slot] = diverged ? 1 : Float(report.meanLoss)
                buffer[slot + 1] = weight
                buffer[slot + 2] = validation.count > 0 ? Float(validationLoss.value(validation) - lossBefore) : 0
                buffer[slot + 3] = Float(validation.count)
                for (c, index) in (draws[position] ?? []).enumerated() { buffer[slot + 4 + c] = Float(index) }
            }
        }

        // One collective combines every rank's clients.
        try communicator.allreduce(&roundBuffer, op: .sum)

        let totalWeight = Double(roundBuffer[p])
        var trainLoss = 0.0
        var reports: [FedExReport] = []
        var validationLosses: [Double] = []
        var diverged: [Int] = []
        var scoreSum = 0.0, scoreWeight = 0.0
        for position in contributing.indices {
            let slot = p + 1 + position * width
            let weight = Double(roundBuffer[slot + 1])
            if weight == 0 { diverged.append(contributing[position]) }
            trainLoss += weight * Double(roundBuffer[slot])
            let loss = Double(roundBuffer[slot + 2]), validationWeight = Double(roundBuffer[slot + 3])
            if let draw = draws[position] {
                validationLosses.append(loss)
                reports.append(FedExReport(indices: draw, loss: loss, weight: validationWeight))
            }
            scoreSum += validationWeight * loss
            scoreWeight += validationWeight
        }
        if totalWeight > 0 {
            trainLoss /= totalWeight
            roundBuffer.withUnsafeBufferPointer { buffer in
                average.withUnsafeMutableBufferPointer { avg in
                    let total = buffer[p]
                    for i in 0 ..< p { avg[i] = buffer[i] / total }
                }
            }
            server.step(global: &global, average: average)
        }
        var fedexStep: FedExDistribution.Step?
        if fedex != nil, !reports.isEmpty, reports.contains(where: { $0.weight > 0 }) {
            fedexStep = try fedex!.update(reports.filter { $0.weight > 0 })
        }
        try communicator.broadcast(&global, root: 0)
        completedRounds += 1
        return RoundRecord(round: round, participants: participants, trainLoss: trainLoss,
                           aggregatedWeight: totalWeight, diverged: diverged, localSettings: localSettings,
                           validationLosses: validationLosses, fedexStep: fedexStep,
                           clientScore: scoreWeight > 0 ? scoreSum / scoreWeight : nil)
    }

    /// The FedEx draw of `client` in `round`, from the stream named by (seed, arm,
    /// round, client); `nil` without FedEx.
    private func fedexDraw(round: Int, client: Int, repeated: [UInt64]) -> [Int]? {
        guard let fedex else { return nil }
        var stream = RandomStream(seed: settings.seed, stream: [
            StreamPurpose.fedexDraw, UInt64(settings.arm), UInt64(round), UInt64(client),
        ] + repeated)
        return fedex.draw(&stream)
    }

    private func hyperparameters(for draw: [Int]?) throws -> LocalHyperparameters {
        guard let draw, let space = settings.fedex?.space else { return settings.local }
        return try space.hyperparameters(draw, base: settings.local)
    }

    // MARK: Evaluation

    /// Scores the global model on every client (a collective call): each rank scores
    /// its fixed share and one allreduce pools the sums.
    public func evaluate() throws -> EvaluationRecord {
        let parameters = model.parameters
        global.withUnsafeBufferPointer { _ = parameters.update(fromContentsOf: $0) }
        var test = EvaluationSums(), validation = EvaluationSums(), heldOut = EvaluationSums()
        for index in evaluationPlan.training {
            let client = data.clients[index]
            if client.test.count > 0 { test = test + (try model.evaluate(on: client.test)) }
            if client.validation.count > 0 { validation = validation + (try model.evaluate(on: client.validation)) }
        }
        for index in evaluationPlan.heldOut where data.heldOutClients[index].test.count > 0 {
            heldOut = heldOut + (try model.evaluate(on: data.heldOutClients[index].test))
        }
        var sums: [Double] = [test, validation, heldOut].flatMap { [$0.lossSum, Double($0.correct), Double($0.count)] }
        try communicator.allreduce(&sums, op: .sum)
        func pooled(_ i: Int) -> EvaluationSums {
            EvaluationSums(lossSum: sums[3 * i], correct: Int(sums[3 * i + 1]), count: Int(sums[3 * i + 2]))
        }
        return EvaluationRecord(afterRound: completedRounds, test: pooled(0), validation: pooled(1), heldOut: pooled(2))
    }

    /// The local configuration the run has settled on: FedEx's most likely
    /// configuration, or the fixed local settings.
    public func tunedConfiguration() throws -> LocalHyperparameters {
        guard let fedex, let space = settings.fedex?.space else { return settings.local }
        return try space.hyperparameters(fedex.mostLikely, base: settings.local)
    }

    /// Scores personalised models (a collective call): every client, training and held
    /// out, starts from the global model, trains locally on its own training samples
    /// with `tunedConfiguration()` (streams named by rounds completed and client), and
    /// is scored on its own validation and test samples. This is how FedEx judges local
    /// hyperparameters, and the baseline is judged the same way with its fixed ones. A
    /// client whose fine-tuning diverges scores nothing correct.
    public func evaluateFineTuned() throws -> EvaluationRecord {
        let mostLikely = try tunedConfiguration()
        let parameters = model.parameters
        var test = EvaluationSums(), validation = EvaluationSums(), heldOut = EvaluationSums()
        func tune(_ client: FederatedClient, group: UInt64, index: Int) throws -> (test: EvaluationSums, validation: EvaluationSums) {
            var configuration = mostLikely
            if settings.fineTuneConfiguration == .sampled, let fedex, let space = settings.fedex?.space {
                // The reference's test: each client draws its configuration from theta.
                var stream = RandomStream(seed: settings.seed, stream: [
                    StreamPurpose.fineTune, UInt64(completedRounds), group, UInt64(index), StreamPurpose.fedexDraw,
                ])
                configuration = try space.hyperparameters(fedex.draw(&stream), base: settings.local)
            }
            global.withUnsafeBufferPointer { _ = parameters.update(fromContentsOf: $0) }
            do {
                if client.train.count > 0 {
                    _ = try global.withUnsafeBufferPointer { anchor in
                        try model.train(on: client.train, plan: LocalTrainingPlan(
                            hyperparameters: configuration, epochs: configuration.epochs, seed: settings.seed,
                            stream: [StreamPurpose.fineTune, UInt64(completedRounds), group, UInt64(index)], anchor: anchor))
                    }
                }
                guard parameters.allSatisfy(\.isFinite) else { throw LocalTrainingDiverged() }
            } catch is LocalTrainingDiverged {
                return (EvaluationSums(lossSum: .infinity, count: client.test.count),
                        EvaluationSums(lossSum: .infinity, count: client.validation.count))
            }
            return (client.test.count > 0 ? try model.evaluate(on: client.test) : EvaluationSums(),
                    client.validation.count > 0 ? try model.evaluate(on: client.validation) : EvaluationSums())
        }
        for index in fineTunePlan.training {
            let scored = try tune(data.clients[index], group: 0, index: index)
            test = test + scored.test
            validation = validation + scored.validation
        }
        for index in fineTunePlan.heldOut {
            heldOut = heldOut + (try tune(data.heldOutClients[index], group: 1, index: index)).test
        }
        var sums: [Double] = [test, validation, heldOut].flatMap { [$0.lossSum, Double($0.correct), Double($0.count)] }
        try communicator.allreduce(&sums, op: .sum)
        func pooled(_ i: Int) -> EvaluationSums {
            EvaluationSums(lossSum: sums[3 * i], correct: Int(sums[3 * i + 1]), count: Int(sums[3 * i + 2]))
        }
        return EvaluationRecord(afterRound: completedRounds, test: pooled(0), validation: pooled(1), heldOut: pooled(2))
    }

    /// Which clients each rank scores: all clients (training, then held out) balanced by
    /// sample count, fixed for the run.
    private static func evaluationPlan(data: FederatedDataset, rank: Int, ranks: Int,
                                       work: (FederatedClient) -> Int) -> (training: [Int], heldOut: [Int]) {
        let all = data.clients + data.heldOutClients
        let plan = RoundAssignment.assign(clients: Array(all.indices), work: { work(all[$0]) }, ranks: ranks)
        let mine = plan[rank]
        let trainingCount = data.clients.count
        return (mine.filter { $0 < trainingCount }, mine.filter { $0 >= trainingCount }.map { $0 - trainingCount })
    }
}
