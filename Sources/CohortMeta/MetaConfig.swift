import CohortFiles
import CohortTrain
import Foundation

/// Everything that defines a meta-learning run, read from YAML or JSON.
///
/// ```yaml
/// name: meta-protonets
/// seed: 1                        # weights, tasks, selections
/// data:
///   type: omniglot
///   directory: ../shared/data/omniglot   # the release's zip files or extracted folders
///   splits: [images_background]  # split name prefixes to read
///   side: 28                     # drawings are area-averaged to side x side
///   rotations: true              # quarter turns are new classes
///   test_characters: 60          # characters held out for meta-test (all their rotations)
///   data_seed: 0                 # which characters are held out
/// episodes:                      # meta-training tasks
///   ways: 5
///   shots: 1
///   queries: 5                   # labelled query drawings per way
/// budget: all                    # labelled points (support + query) over meta-training, or all
/// learner:
///   type: protonets              # protonets | fomaml | reptile
///   filters: 32                  # conv-4 width
///   inner_steps: 5               # fomaml, reptile: SGD steps on a task
///   inner_learning_rate: 0.05
///   test_steps: 10               # fomaml, reptile: SGD steps at meta-test
/// training:
///   steps: 2000                  # meta-iterations
///   meta_batch: 4                # tasks per meta-iteration, spread over the ranks
///   optimizer: {type: adam, learning_rate: 1.0e-3}   # the outer update
///   log_every: 50                # meta-iterations per journal line
///   checkpoint_every: 200
/// selection:
///   train: uniform               # uniform | coverage: who gets labels in meta-training
///   test: [uniform, coverage]    # compared at meta-test
///   candidates: 5                # drawings per way a selection chooses the shots from
/// evaluation:
///   ways: 5
///   shots: [1, 5]
///   queries: 15
///   episodes: 600                # per shot count and selection
///   one_shot_runs: true          # Lake's 20-way one-shot runs (all_runs.zip)
/// ```
public struct MetaConfig: Sendable {
    public var name = "meta"
    public var seed: UInt64 = 1
    public var directory = "../shared/data/omniglot"
    public var splits = ["images_background"]
    public var side = 28
    public var rotations = true
    public var testCharacters = 60
    public var dataSeed: UInt64 = 0
    public var ways = 5, shots = 1, queries = 5
    public var budget: Int?
    public var learner = LearnerKind.protonets
    public var filters = 32
    public var innerSteps = 5
    public var innerLearningRate: Float = 0.05
    public var testSteps = 10
    public var steps = 2000
    public var metaBatch = 4
    public var optimizer = MetaConfig.defaultOptimizer
    public var logEvery = 50
    public var checkpointEvery = 200
    public var trainSelection = SelectionKind.uniform
    public var testSelections: [SelectionKind] = [.uniform]
    public var candidates = 5
    public var testWays = 5
    public var testShots = [1, 5]
    public var testQueries = 15
    public var testEpisodes = 600
    public var oneShotRuns = true
    public var sourceText = ""

    public init() {}

    public static var defaultOptimizer: OptimizerSpec {
        var o = OptimizerSpec()
        o.kind = .adam
        o.learningRate = 1e-3
        return o
    }

    /// Candidates per way a selection sees (never fewer than the shots it must label).
    public func candidateCount(shots: Int, selection: SelectionKind) -> Int {
        selection == .uniform ? shots : max(shots, candidates)
    }

    // MARK: Reading

    public static func load(path: String) throws -> MetaConfig {
        try ConfigDocument.load(path: path) { try parse($0, source: $1, defaultName: $2) }
    }

    /// Parses and validates config text; throws every problem at once, each with its key.
    public static func parse(_ text: String, source: String = "config", defaultName: String = "meta") throws -> MetaConfig {
        let issues = ConfigIssues()
        let top = try ConfigSection.top(of: text, source: source, issues: issues)
        var c = MetaConfig()
        c.sourceText = text
        c.name = top.runName(default: defaultName)
        c.seed = UInt64(top.int("seed", default: 1, min: 0))
        let empty = { (key: String) in ConfigSection(emptyAt: key, issues: issues) }

        let data = top.section("data", required: true, hint: "type: omniglot") ?? empty("data")
        _ = data.string("type", default: "omniglot", allowed: ["omniglot"])
        c.directory = data.string("directory", default: c.directory)
        if let s = data.strings("splits") {
            if s.isEmpty { data.issue("splits", "must name at least one split") } else { c.splits = s }
        }
        c.side = data.int("side", default: c.side, min: 16, max: 128)
        c.rotations = data.bool("rotations", default: c.rotations)
        c.testCharacters = data.int("test_characters", default: c.testCharacters, min: 1, max: 100_000)
        c.dataSeed = UInt64(data.int("data_seed", default: 0, min: 0))
        data.finish()

        let episodes = top.section("episodes") ?? empty("episodes")
        c.ways = episodes.int("ways", default: c.ways, min: 2, max: 1000)
        c.shots = episodes.int("shots", default: c.shots, min: 1, max: 1000)
        c.queries = episodes.int("queries", default: c.queries, min: 1, max: 1000)
        episodes.finish()

        if let b = top.value("budget") {
            if b.stringValue == "all" { c.budget = nil } else { c.budget = top.int("budget", min: 1, max: 1_000_000_000) }
        }

        let learner = top.section("learner") ?? empty("learner")
        c.learner = learner.choice("type", c.learner)
        c.filters = learner.int("filters", default: c.filters, min: 1, max: 1024)
        c.innerSteps = learner.int("inner_steps", default: c.innerSteps, min: 1, max: 1000)
        c.innerLearningRate = Float(learner.double("inner_learning_rate", default: Double(c.innerLearningRate), max: 100, above: 0))
        c.testSteps = learner.int("test_steps", default: c.testSteps, min: 1, max: 10_000)
        learner.finish()

        let training = top.section("training") ?? empty("training")
        c.steps = training.int("steps", default: c.steps, min: 1, max: 10_000_000)
        c.metaBatch = training.int("meta_batch", default: c.metaBatch, min: 1, max: 4096)
        if let s = training.section("optimizer") { c.optimizer = OptimizerSpec(s, defaults: c.optimizer) }
        c.logEvery = training.int("log_every", default: c.logEvery, min: 1, max: 10_000_000)
        c.checkpointEvery = training.int("checkpoint_every", default: c.checkpointEvery, min: 1, max: 10_000_000)
        training.finish()

        let selection = top.section("selection") ?? empty("selection")
        c.trainSelection = selection.choice("train", c.trainSelection)
        if let v = selection.value("test") {
            let names = v.arrayValue?.compactMap(\.stringValue) ?? v.stringValue.map { [$0] } ?? []
            let kinds = names.compactMap(SelectionKind.init(rawValue:))
            if kinds.isEmpty || kinds.count != names.count || (v.arrayValue.map { $0.count != names.count } ?? false) {
                selection.issue("test", "must be one or a list of \(SelectionKind.allCases.map(\.rawValue).joined(separator: ", "))")
            } else {
                c.testSelections = kinds.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
            }
        }
        c.candidates = selection.int("candidates", default: c.candidates, min: 1, max: 1000)
        selection.finish()

        let evaluation = top.section("evaluation") ?? empty("evaluation")
        c.testWays = evaluation.int("ways", default: c.testWays, min: 2, max: 1000)
        if let s = evaluation.integers("shots", min: 1, max: 1000) {
            if s.isEmpty { evaluation.issue("shots", "must list at least one shot count") } else { c.testShots = s }
        }
        c.testQueries = evaluation.int("queries", default: c.testQueries, min: 1, max: 1000)
        c.testEpisodes = evaluation.int("episodes", default: c.testEpisodes, min: 1, max: 1_000_000)
        c.oneShotRuns = evaluation.bool("one_shot_runs", default: c.oneShotRuns)
        evaluation.finish()

        top.finish()
        try issues.throwIfAny()
        // A budget below one task is a problem of the config, said in the budget's terms.
        _ = try c.supervisionBudget()
        return c
    }

    public func supervisionBudget() throws -> SupervisionBudget {
        try SupervisionBudget(total: budget, ways: ways, shots: shots, queries: queries)
    }

    /// Checks the episodes against the classes and drawings the data has.
    public func validate(trainPool: ClassPool, testPool: ClassPool) throws {
        let perClass = trainPool.smallestClass
        let trainNeed = candidateCount(shots: shots, selection: trainSelection) + queries
        if trainNeed > perClass {
            throw MetaInputError("episodes need \(trainNeed) drawings per class (shots \(shots)\(trainSelection == .coverage ? " from \(candidateCount(shots: shots, selection: .coverage)) candidates" : "") + queries \(queries)), but a class has only \(perClass)")
        }
        // Test episodes always draw the candidates a selection may choose from, so that
        // every selection meets the same queries.
        let testCandidates = testShots.map { candidateCount(shots: $0, selection: .coverage) }.max()!
        if testCandidates + testQueries > testPool.smallestClass {
            throw MetaInputError("evaluation episodes need \(testCandidates + testQueries) drawings per class (\(testCandidates) support candidates for up to \(testShots.max()!) shots + queries \(testQueries)), but a class has only \(testPool.smallestClass)")
        }
        if ways > trainPool.classCount { throw MetaInputError("episodes.ways \(ways) exceeds the \(trainPool.classCount) meta-training classes") }
        if testWays > testPool.classCount { throw MetaInputError("evaluation.ways \(testWays) exceeds the \(testPool.classCount) meta-test classes") }
    }
}
