import CohortFiles
import CohortTensor
import CohortTune

/// The `fedex:` section: which local configurations FedEx chooses among and how it learns.
///
/// ```yaml
/// fedex:
///   grid:                          # one categorical per hyperparameter ...
///     lr: [0.3, 0.1, 0.03, 0.01]
///     epochs: [1, 2, 5]
///   configurations:                # ... or one over whole configurations ...
///     - {lr: 0.1, batch_size: 16}
///     - {lr: 0.01, momentum: 0.9}
///   sample:                        # ... or drawn for each arm from ranges
///     configurations: 27           #     k whole configurations, or
///     perturbation: 0.1            #     with configurations: one draw and k-1 perturbations of
///                                  #     it within this share of each range (the reference's
///                                  #     draw; eps 0.1 Shakespeare, 0 FEMNIST/CIFAR); absent:
///                                  #     k independent draws
///     values_per_hyperparameter: 3 #     a grid of this many values per hyperparameter
///     space:                       #     the ranges, in the search-space syntax
///       lr: {type: loguniform, low: 1.0e-4, high: 1.0}
///       momentum: {type: uniform, low: 0.0, high: 0.9}
///   schedule: aggressive           # constant | inverse_sqrt | aggressive
///   eta0: auto                     # or a number; auto = sqrt(2 log k)
///   baseline_discount: 0.9         # lambda of the baseline's discounted mean, or random:
///                                  #   each arm draws lambda ~ U[0, 1] (the reference's default)
///   entropy_cutoff: 0.0            # freeze below this entropy (nats)
///   validation_loss: error         # error | cross_entropy: what clients report
///   difference: false              # report after minus before local training
/// ```
public struct FedExSpec: Equatable, Sendable {
    public enum Choices: Equatable, Sendable {
        case grid([(name: String, values: [Double])])
        case configurations([[String: Double]])
        case sampledConfigurations(count: Int, space: SearchSpace, perturbation: Double?)
        case sampledGrid(valuesPerHyperparameter: Int, space: SearchSpace)

        public static func == (a: Choices, b: Choices) -> Bool {
            switch (a, b) {
            case let (.grid(x), .grid(y)): return x.map(\.name) == y.map(\.name) && x.map(\.values) == y.map(\.values)
            case let (.configurations(x), .configurations(y)): return x == y
            case let (.sampledConfigurations(n, s, e), .sampledConfigurations(m, t, f)): return n == m && s == t && e == f
            case let (.sampledGrid(n, s), .sampledGrid(m, t)): return n == m && s == t
            default: return false
            }
        }
    }

    public var choices: Choices
    public var settings: FedExDistribution.Settings
    public var validationLoss: FedExValidationLoss = .error
    public var reportsDifference: Bool = false
    /// Each arm draws its baseline discount from U[0, 1] (`baseline_discount: random`).
    public var randomBaselineDiscount: Bool = false

    /// Tags the streams that draw sampled FedEx spaces.
    static let samplingPurpose: UInt64 = 0x4665_6445_7853_7063 // "FedExSpc"

    /// The FedEx settings of arm `arm`: the configured ones, with the baseline discount
    /// drawn from U[0, 1] by the stream named by (seed, arm) under `baseline_discount: random`.
    public func settings(arm: Int, seed: UInt64) -> FedExDistribution.Settings {
        var s = settings
        if randomBaselineDiscount {
            var rng = RandomStream(seed: seed, stream: [StreamPurpose.fedexDiscount, UInt64(arm)])
            s.baselineDiscount = rng.uniformDouble()
        }
        return s
    }

    /// The space of arm `arm`: fixed choices are the same for every arm; sampled ones are
    /// drawn from streams named by (seed, arm), so each arm has its own.
    public func space(arm: Int, seed: UInt64, base: LocalHyperparameters) throws -> FedExSpace {
        switch choices {
        case let .grid(axes):
            return try FedExSpace.grid(axes, base: base)
        case let .configurations(list):
            return try FedExSpace.configurations(list, base: base)
        case let .sampledConfigurations(count, space, nil):
            let configurations = try (0 ..< count).map { i in
                try Self.numbers(space.sample(trial: arm * count + i, seed: seed ^ Self.samplingPurpose))
            }
            return try FedExSpace.configurations(configurations, base: base)
        case let .sampledConfigurations(count, space, eps?):
            let first = try Self.numbers(space.sample(trial: arm * count, seed: seed ^ Self.samplingPurpose))
            var rng = RandomStream(seed: seed, stream: [StreamPurpose.fedexPerturbation, UInt64(arm)])
            let others = (1 ..< Swift.max(count, 1)).map { _ in
                ConfigurationPerturbation.perturb(first, space: space, eps: eps, rng: &rng)
            }
            return try FedExSpace.configurations([first] + others, base: base)
        case let .sampledGrid(perAxis, space):
            let draws = try (0 ..< perAxis).map { i in
                try Self.numbers(space.sample(trial: arm * perAxis + i, seed: seed ^ Self.samplingPurpose))
            }
            let axes = space.parameters.map { p in (name: p.name, values: Self.distinct(draws.map { $0[p.name]! })) }
            return try FedExSpace.grid(axes, base: base)
        }
    }

    private static func numbers(_ config: TrialConfig) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for entry in config.entries {
            guard let value = entry.value.doubleValue else {
                throw FederatedError.invalidValue(field: "fedex.sample.space.\(entry.name)", message: "must give numbers, got \(entry.value)")
            }
            out[entry.name] = value
        }
        return out
    }

    private static func distinct(_ values: [Double]) -> [Double] {
        var out: [Double] = []
        for v in values where !out.contains(v) { out.append(v) }
        return out
    }

    // MARK: Reading the config

    static func parse(_ section: ConfigSection, base: LocalHyperparameters) -> FedExSpec? {
        let issues = section.issues
        let before = issues.count
        section.finish(also: ["grid", "configurations", "sample", "schedule", "eta0", "baseline_discount", "entropy_cutoff",
                           "validation_loss", "difference"])
        let given = ["grid", "configurations", "sample"].filter(section.has)
        if given.count != 1 {
            issues.add(section.path, given.isEmpty ? "needs the configurations to choose among: grid, configurations or sample"
                                                   : "give only one of grid, configurations and sample (got \(given.joined(separator: ", ")))")
        }
        var choices: Choices?
        if let grid = section.section("grid") {
            var axes: [(name: String, values: [Double])] = []
            for (name, _) in grid.members {
                if let values = grid.numbers(name) { axes.append((name, values)) }
            }
            choices = .grid(axes)
            section.check { _ = try FedExSpace.grid(axes, base: base) }
        } else if let raw = section["configurations"] {
            if let list = raw.arrayValue {
                var configurations: [[String: Double]] = []
                for (i, item) in list.enumerated() {
                    guard let entry = ConfigSection(item, path: "\(section.at("configurations"))[\(i)]", issues: issues) else { continue }
                    var config: [String: Double] = [:]
                    for (name, _) in entry.members { if let v = entry.double(name) { config[name] = v } }
                    configurations.append(config)
                }
                choices = .configurations(configurations)
                section.check { _ = try FedExSpace.configurations(configurations, base: base) }
            } else {
                issues.add(section.at("configurations"), "must be a list of mappings, got \(raw.kindName)")
            }
        } else if let sample = section.section("sample") {
            sample.finish(also: ["configurations", "values_per_hyperparameter", "space", "perturbation"])
            var space: SearchSpace?
            if let raw = sample["space"] {
                do {
                    space = try SearchSpace(json: raw, path: sample.at("space"))
                    for p in space!.parameters where !LocalHyperparameters.names.contains(p.name) {
                        issues.add("\(sample.at("space")).\(p.name)",
                                   "unknown local hyperparameter (expected one of \(LocalHyperparameters.names.joined(separator: ", ")))")
                    }
                } catch let error as ConfigError { issues.add(error) } catch { issues.add(sample.at("space"), "\(error)") }
            } else {
                issues.add(sample.at("space"), "is missing (the ranges to draw configurations from)")
            }
            let count = sample.int("configurations"), perAxis = sample.int("values_per_hyperparameter")
            let perturbation = sample.double("perturbation", min: 0, max: 1)
            if perturbation != nil && count == nil {
                issues.add(sample.at("perturbation"), "applies to configurations: k (one draw and k-1 perturbations of it)")
            }
            switch (count, perAxis, space) {
            case let (n?, nil, s?):
                if n < 1 { issues.add(sample.at("configurations"), "must be at least 1, got \(n)") }
                choices = .sampledConfigurations(count: n, space: s, perturbation: perturbation)
            case let (nil, n?, s?):
                if n < 1 { issues.add(sample.at("values_per_hyperparameter"), "must be at least 1, got \(n)") }
                choices = .sampledGrid(valuesPerHyperparameter: n, space: s)
            case (nil, nil, _):
                issues.add(sample.path, "give configurations (k whole configurations) or values_per_hyperparameter")
            case (_?, _?, _):
                issues.add(sample.path, "give configurations or values_per_hyperparameter, not both")
            default:
                break
            }
        }
        var settings = FedExDistribution.Settings()
        settings.schedule = section.choice("schedule", FedExStepSchedule.aggressive)
        if let eta0 = section["eta0"], eta0.stringValue != "auto" {
            settings.eta0 = section.double("eta0")
        }
        let randomDiscount = section["baseline_discount"]?.stringValue == "random"
        if !randomDiscount { settings.baselineDiscount = section.double("baseline_discount", default: settings.baselineDiscount) }
        settings.entropyCutoff = section.double("entropy_cutoff", default: settings.entropyCutoff)
        section.check { try settings.validate() }
        let validationLoss = section.choice("validation_loss", FedExValidationLoss.error)
        let difference = section.bool("difference", default: false)
        guard issues.count == before, let choices else { return nil }
        return FedExSpec(choices: choices, settings: settings, validationLoss: validationLoss, reportsDifference: difference,
                         randomBaselineDiscount: randomDiscount)
    }
}
