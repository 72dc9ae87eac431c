import CohortFiles
import Foundation
import CohortTensor

/// Where one hyperparameter's values come from.
public indirect enum ParameterDomain: Equatable, Sendable {
    /// Uniform real in [low, high].
    case uniform(low: Double, high: Double)
    /// Real whose logarithm is uniform in [log low, log high]; `low > 0`.
    case logUniform(low: Double, high: Double)
    /// Integer in low...high, uniform or (with `log`) log-uniform.
    case integer(low: Int, high: Int, log: Bool)
    /// One of the values, uniformly.
    case choice([ParameterValue])
    /// Every value in turn: trial ids walk the grid's cross product.
    case grid([ParameterValue])
    /// Always this value (a plain scalar in the config).
    case constant(ParameterValue)
    /// Gridded random search: `count` values drawn once per run from `base` (a pure
    /// function of the run's seed and the parameter's name), then one of them,
    /// uniformly, per trial. Upstream stages of a pipeline use it so that their
    /// settings repeat across trials and their outputs can be reused.
    case gridded(ParameterDomain, count: Int)

    public static let typeNames = ["uniform", "loguniform", "int", "choice", "grid"]
}

/// A named hyperparameter.
public struct Parameter: Equatable, Sendable {
    public var name: String
    public var domain: ParameterDomain
    public init(name: String, domain: ParameterDomain) {
        self.name = name
        self.domain = domain
    }
}

/// The hyperparameters a search explores, and how to sample them.
///
/// Sampling is a pure function of `(seed, trial id)`: each parameter draws from its
/// own stream, `RandomStream(seed:stream:[trial])` derived by the parameter's name,
/// so trial 17 gets the same configuration on any worker, after a resume, and even
/// after another parameter is added to the space.
public struct SearchSpace: Equatable, Sendable {
    public var parameters: [Parameter]

    public init(_ parameters: [Parameter]) { self.parameters = parameters }

    public subscript(name: String) -> Parameter? { parameters.first { $0.name == name } }

    /// The number of points in the cross product of the `grid` parameters (1 if none).
    public var gridSize: Int {
        parameters.reduce(1) { n, p in
            if case let .grid(values) = p.domain { return n * values.count }
            return n
        }
    }

    // MARK: Sampling

    /// The configuration of trial `trial` (ids count from 0).
    public func sample(trial: Int, seed: UInt64) -> TrialConfig {
        let trialStream = RandomStream(seed: seed, stream: [UInt64(trial)])
        var gridIndex = trial % gridSize
        var gridStride = gridSize
        var entries: [TrialConfig.Entry] = []
        for p in parameters {
            var rng = trialStream.derived(Self.nameHash(p.name))
            let value: ParameterValue
            switch p.domain {
            case let .grid(values):
                // Mixed radix: the first grid parameter varies slowest.
                gridStride /= values.count
                value = values[gridIndex / gridStride]
                gridIndex %= gridStride
            case let .gridded(base, count):
                let values = Self.griddedValues(of: p.name, base: base, count: count, seed: seed)
                value = values[rng.index(below: values.count)]
            default:
                value = Self.draw(p.domain, &rng)
            }
            entries.append(.init(name: p.name, value: value))
        }
        return TrialConfig(entries)
    }

    /// One random value of a domain that needs no trial index (everything but `grid`).
    static func draw(_ domain: ParameterDomain, _ rng: inout RandomStream) -> ParameterValue {
        switch domain {
        case let .uniform(low, high):
            return .double(low + (high - low) * rng.uniformDouble())
        case let .logUniform(low, high):
            return .double(Swift.min(high, Swift.max(low, exp(rng.uniform(log(low), log(high))))))
        case let .integer(low, high, log: false):
            return .int(low + rng.index(below: high - low + 1))
        case let .integer(low, high, log: true):
            let x = exp(rng.uniform(Foundation.log(Double(low)), Foundation.log(Double(high) + 1)))
            return .int(Swift.min(high, Swift.max(low, Int(x.rounded(.down)))))
        case let .choice(values), let .grid(values):
            return values[rng.index(below: values.count)]
        case let .constant(v):
            return v
        case let .gridded(base, _):
            return draw(base, &rng)
        }
    }

    /// Tags the streams that draw gridded values apart from the trials' streams.
    static let griddedStream: UInt64 = 0x4772_6964_6465_6456 // "GriddedV"

    /// The values a gridded parameter takes in a run of `seed`: `count` draws from
    /// `base`, repeats dropped (a narrow integer range may hold fewer values), in the
    /// order drawn.
    public static func griddedValues(of name: String, base: ParameterDomain, count: Int, seed: UInt64) -> [ParameterValue] {
        var rng = RandomStream(seed: seed, stream: [griddedStream, nameHash(name)])
        var values: [ParameterValue] = []
        var attempts = 0
        while values.count < count && attempts < count * 20 {
            let v = draw(base, &rng)
            if !values.contains(v) { values.append(v) }
            attempts += 1
        }
        return values
    }

    /// Where a configuration's value sits in each parameter's range, in [0, 1]
    /// (log scale for log domains, index order for choices): what synthetic
    /// learning curves are built on.
    public func unitCoordinates(of config: TrialConfig) -> [Double] {
        parameters.map { p in
            guard let v = config[p.name] else { return 0.5 }
            var domain = p.domain
            if case let .gridded(base, _) = domain { domain = base }
            switch domain {
            case let .uniform(low, high):
                return high > low ? ((v.doubleValue ?? low) - low) / (high - low) : 0.5
            case let .logUniform(low, high):
                return high > low ? (log(v.doubleValue ?? low) - log(low)) / (log(high) - log(low)) : 0.5
            case let .integer(low, high, isLog):
                guard high > low else { return 0.5 }
                let x = v.doubleValue ?? Double(low)
                return isLog ? (log(x) - log(Double(low))) / (log(Double(high)) - log(Double(low)))
                             : (x - Double(low)) / Double(high - low)
            case let .choice(values), let .grid(values):
                guard values.count > 1, let i = values.firstIndex(of: v) else { return 0.5 }
                return Double(i) / Double(values.count - 1)
            case .constant, .gridded:
                return 0.5
            }
        }
    }

    /// FNV-1a: a hash of a name that is the same in every process (Swift's `Hasher` is
    /// seeded per process).
    static func nameHash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    // MARK: Reading configurations back (journal replay)

    /// Reads a configuration written by ``TrialConfig/json`` and checks it against
    /// this space.
    public func config(from json: JSONValue) throws -> TrialConfig {
        guard let members = json.objectMembers else { throw ConfigError([ConfigIssue(path: "config", message: "is not a mapping")]) }
        var entries: [TrialConfig.Entry] = []
        for p in parameters {
            guard let raw = members.first(where: { $0.key == p.name })?.value, var v = ParameterValue(json: raw) else {
                throw ConfigError([ConfigIssue(path: "config.\(p.name)", message: "is missing")])
            }
            var domain = p.domain
            if case let .gridded(base, _) = domain { domain = base }
            switch domain {
            case .uniform, .logUniform:
                guard let d = v.doubleValue else { throw ConfigError([ConfigIssue(path: "config.\(p.name)", message: "is not a number")]) }
                v = .double(d)
            case .integer:
                guard let i = v.intValue else { throw ConfigError([ConfigIssue(path: "config.\(p.name)", message: "is not an integer")]) }
                v = .int(i)
            default: break
            }
            entries.append(.init(name: p.name, value: v))
        }
        return TrialConfig(entries)
    }
}

// MARK: Loading and validation

extension SearchSpace {
    /// Reads the `space:` section: a mapping from parameter name to either a plain
    /// scalar (a constant) or a mapping with `type` and its fields. Every problem is
    /// collected, one message each.
    public init(json: JSONValue, path: String = "space") throws {
        guard let members = json.objectMembers else {
            throw ConfigError([ConfigIssue(path: path, message: "must be a mapping from parameter names to definitions, got \(json.kindName)")])
        }
        var issues: [ConfigIssue] = []
        var parameters: [Parameter] = []
        if members.isEmpty { issues.append(ConfigIssue(path: path, message: "defines no parameters")) }
        for (name, def) in members {
            let at = "\(path).\(name)"
            if let scalar = ParameterValue(json: def) {
                if case let .double(d) = scalar, !d.isFinite {
                    issues.append(ConfigIssue(path: at, message: "must be a finite number, got \(d)"))
                    continue
                }
                parameters.append(Parameter(name: name, domain: .constant(scalar)))
                continue
            }
            guard let fields = def.objectMembers else {
                issues.append(ConfigIssue(path: at, message: "must be a value or a mapping with a 'type', got \(def.kindName)"))
                continue
            }
            if let domain = Self.domain(fields: fields, at: at, issues: &issues) {
                parameters.append(Parameter(name: name, domain: domain))
            }
        }
        if issues.isEmpty, Self.checkedGridSize(parameters) == nil {
            issues.append(ConfigIssue(path: path, message: "the grid parameters' cross product has more than \(Limits.count) points"))
        }
        if !issues.isEmpty { throw ConfigError(issues) }
        self.init(parameters)
    }

    private static func domain(fields: [(key: String, value: JSONValue)], at: String, issues: inout [ConfigIssue]) -> ParameterDomain? {
        func field(_ k: String) -> JSONValue? { fields.first { $0.key == k }?.value }
        guard let typeValue = field("type") else {
            issues.append(ConfigIssue(path: at, message: "has no 'type' (one of \(ParameterDomain.typeNames.joined(separator: ", ")))"))
            return nil
        }
        guard let type = typeValue.stringValue else {
            issues.append(ConfigIssue(path: "\(at).type", message: "must be a name, got \(typeValue.kindName)"))
            return nil
        }
        let allowed: [String]
        switch type {
        case "uniform", "loguniform": allowed = ["type", "low", "high", "gridded"]
        case "int": allowed = ["type", "low", "high", "log", "gridded"]
        case "choice": allowed = ["type", "values", "gridded"]
        case "grid": allowed = ["type", "values"]
        default:
            issues.append(ConfigIssue(path: "\(at).type", message: "unknown type '\(type)' (expected one of \(ParameterDomain.typeNames.joined(separator: ", ")))"))
            return nil
        }
        let before = issues.count
        for (k, _) in fields where !allowed.contains(k) {
            issues.append(ConfigIssue(path: "\(at).\(k)", message: "is not a field of a '\(type)' parameter (fields: \(allowed.dropFirst().joined(separator: ", ")))"))
        }
        var gridCount: Int?
        if allowed.contains("gridded"), let g = field("gridded") {
            if let n = g.intValue, n >= 1, n <= maxGridValues {
                gridCount = n
            } else if let n = g.intValue, n < 1 {
                issues.append(ConfigIssue(path: "\(at).gridded", message: "is \(n): a grid needs at least one value"))
            } else {
                issues.append(ConfigIssue(path: "\(at).gridded", message: "must be the number of grid values, a whole number from 1 to \(maxGridValues), got \(g.intValue.map(String.init) ?? g.kindName)"))
            }
        }
        guard let domain = plainDomain(type: type, fields: fields, at: at, before: before, issues: &issues) else { return nil }
        if let gridCount { return .gridded(domain, count: gridCount) }
        return domain
    }

    private static func plainDomain(type: String, fields: [(key: String, value: JSONValue)], at: String, before: Int,
                                    issues: inout [ConfigIssue]) -> ParameterDomain? {
        func field(_ k: String) -> JSONValue? { fields.first { $0.key == k }?.value }

        switch type {
        case "uniform", "loguniform":
            let low = number(field("low"), "\(at).low", &issues)
            let high = number(field("high"), "\(at).high", &issues)
            guard let low, let high, issues.count == before else { return nil }
            if low > high { issues.append(ConfigIssue(path: at, message: "low (\(low)) is greater than high (\(high))")); return nil }
            if !(high - low).isFinite { issues.append(ConfigIssue(path: at, message: "the range from low to high is too wide to sample (high - low is not finite)")); return nil }
            if type == "loguniform" {
                if low <= 0 { issues.append(ConfigIssue(path: "\(at).low", message: "must be positive for a log scale, got \(low)")); return nil }
                return .logUniform(low: low, high: high)
            }
            return .uniform(low: low, high: high)
        case "int":
            let low = integer(field("low"), "\(at).low", &issues)
            let high = integer(field("high"), "\(at).high", &issues)
            var isLog = false
            if let l = field("log") {
                if let b = l.boolValue { isLog = b } else { issues.append(ConfigIssue(path: "\(at).log", message: "must be true or false, got \(l.kindName)")) }
            }
            guard let low, let high, issues.count == before else { return nil }
            if low > high { issues.append(ConfigIssue(path: at, message: "low (\(low)) is greater than high (\(high))")); return nil }
            if isLog && low <= 0 { issues.append(ConfigIssue(path: "\(at).low", message: "must be positive for a log scale, got \(low)")); return nil }
            return .integer(low: low, high: high, log: isLog)
        default: // choice, grid
            guard let raw = field("values") else {
                issues.append(ConfigIssue(path: at, message: "has no 'values' list"))
                return nil
            }
            guard let list = raw.arrayValue else {
                issues.append(ConfigIssue(path: "\(at).values", message: "must be a list, got \(raw.kindName)"))
                return nil
            }
            if list.isEmpty {
                issues.append(ConfigIssue(path: "\(at).values", message: "is empty: a \(type) needs at least one value"))
                return nil
            }
            var values: [ParameterValue] = []
            for (i, item) in list.enumerated() {
                guard let v = ParameterValue(json: item) else {
                    issues.append(ConfigIssue(path: "\(at).values[\(i)]", message: "must be a number, string or boolean, got \(item.kindName)"))
                    continue
                }
                if case let .double(d) = v, !d.isFinite {
                    issues.append(ConfigIssue(path: "\(at).values[\(i)]", message: "must be finite"))
                    continue
                }
                if values.contains(v) {
                    issues.append(ConfigIssue(path: "\(at).values[\(i)]", message: "repeats the value \(v)"))
                    continue
                }
                values.append(v)
            }
            guard issues.count == before else { return nil }
            return type == "grid" ? .grid(values) : .choice(values)
        }
    }

    private static func number(_ v: JSONValue?, _ path: String, _ issues: inout [ConfigIssue]) -> Double? {
        guard let v else { issues.append(ConfigIssue(path: path, message: "is missing")); return nil }
        guard let d = v.doubleValue else { issues.append(ConfigIssue(path: path, message: "must be a number, got \(v.kindName)")); return nil }
        guard d.isFinite else { issues.append(ConfigIssue(path: path, message: "must be finite")); return nil }
        return d
    }

    private static func integer(_ v: JSONValue?, _ path: String, _ issues: inout [ConfigIssue]) -> Int? {
        guard let v else { issues.append(ConfigIssue(path: path, message: "is missing")); return nil }
        guard let i = v.intValue else { issues.append(ConfigIssue(path: path, message: "must be an integer, got \(v.kindName)")); return nil }
        guard abs(i) <= maxInteger else { issues.append(ConfigIssue(path: path, message: "must be between -2^53 and 2^53, got \(i)")); return nil }
        return i
    }

    /// The most values a gridded parameter may take (each is drawn once per run).
    public static let maxGridValues = 1000

    /// Integer bounds stay exactly representable as Double (log sampling works in
    /// doubles) and `high - low + 1` cannot overflow.
    static let maxInteger = 1 << 53

    /// The grid's size when the cross product stays within ``Limits/count``.
    static func checkedGridSize(_ parameters: [Parameter]) -> Int? {
        Checked.product(parameters.compactMap { p -> Int? in
            if case let .grid(values) = p.domain { return values.count }
            return nil
        }, limit: Limits.count)
    }
}
