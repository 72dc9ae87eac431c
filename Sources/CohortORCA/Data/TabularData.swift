import CohortTensor
import Foundation

/// A labelled table in scikit-learn's bundled CSV layout (breast_cancer.csv,
/// wine_data.csv): a first line `samples,features,class names…`, then one row per sample
/// of the feature values and the class index.
public struct TabularData: Sendable, Equatable {
    public var name: String
    public var features: Int
    public var classNames: [String]
    /// [count × features], row-major.
    public var values: [Float]
    public var labels: [Int32]

    public var count: Int { labels.count }

    /// Where `scripts/setup.sh` puts the CSVs; `COHORT_TABULAR_DIR` overrides it.
    public static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["COHORT_TABULAR_DIR"] ?? "/usr/local/share/cohort/sklearn-data"
    }

    public static func read(path: String) throws -> TabularData {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ORCAInputError("\(path): no such file (scripts/setup.sh fetches scikit-learn's CSVs; COHORT_TABULAR_DIR points elsewhere)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ORCAInputError("\(path): not UTF-8 text") }
        return try parse(text, name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, path: path)
    }

    public static func parse(_ text: String, name: String, path: String) throws -> TabularData {
        func fail(_ why: String) -> ORCAInputError { ORCAInputError("\(path): not a scikit-learn CSV: \(why)") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let head = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }), head.count >= 4,
              let samples = Int(head[0]), let features = Int(head[1]), (1...1_000_000).contains(samples), (1...4096).contains(features)
        else { throw fail("the first line must be `samples,features,class names…` with 1...1000000 samples and 1...4096 features") }
        let classNames = Array(head[2...])
        guard lines.count - 1 == samples else { throw fail("the header says \(samples) samples, the file has \(lines.count - 1) rows") }
        var values: [Float] = [], labels: [Int32] = []
        values.reserveCapacity(samples * features)
        for (i, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == features + 1 else { throw fail("row \(i + 2) has \(cells.count) values, expected \(features + 1)") }
            for c in cells.prefix(features) {
                guard let v = Float(c.trimmingCharacters(in: .whitespaces)), v.isFinite else { throw fail("row \(i + 2): '\(c)' is not a finite number") }
                values.append(v)
            }
            guard let label = Int(cells[features].trimmingCharacters(in: .whitespaces)), (0..<classNames.count).contains(label) else {
                throw fail("row \(i + 2): the class '\(cells[features])' is not an index below \(classNames.count)")
            }
            labels.append(Int32(label))
        }
        return TabularData(name: name, features: features, classNames: classNames, values: values, labels: labels)
    }

    /// A seeded split: `testFraction` of each class's samples (at least one) go to the
    /// test part; the training part comes in the seed's shuffled order (the files are
    /// sorted by class, so a prefix of it is still a mix), the test part in file order.
    public func split(testFraction: Double, seed: UInt64) -> (train: TabularData, test: TabularData) {
        var rng = RandomStream(seed: seed, stream: [0x7461_626c_65])
        var testRows = Set<Int>()
        for c in 0..<classNames.count {
            let rows = labels.indices.filter { labels[$0] == Int32(c) }
            guard !rows.isEmpty else { continue }
            let take = max(1, Int((Double(rows.count) * testFraction).rounded()))
            for i in rng.permutation(rows.count).prefix(min(take, rows.count - 1)) { testRows.insert(rows[i]) }
        }
        let shuffled = rng.permutation(count)
        func part(_ keep: (Int) -> Bool, _ suffix: String) -> TabularData {
            let rows = (suffix == "train" ? shuffled : Array(labels.indices)).filter(keep)
            return TabularData(name: "\(name)/\(suffix)", features: features, classNames: classNames,
                               values: rows.flatMap { values[($0 * features)..<(($0 + 1) * features)] }, labels: rows.map { labels[$0] })
        }
        return (part({ !testRows.contains($0) }, "train"), part({ testRows.contains($0) }, "test"))
    }

    /// Each feature shifted and scaled by `reference`'s mean and standard deviation (the
    /// training part's, so the test part is scaled the same way).
    public func standardized(by reference: TabularData) -> TabularData {
        var mean = [Double](repeating: 0, count: features), sq = mean
        for i in 0..<reference.count { for f in 0..<features { mean[f] += Double(reference.values[i * features + f]) } }
        for f in 0..<features { mean[f] /= Double(max(reference.count, 1)) }
        for i in 0..<reference.count { for f in 0..<features { let d = Double(reference.values[i * features + f]) - mean[f]; sq[f] += d * d } }
        let std = sq.map { ($0 / Double(max(reference.count, 1))).squareRoot() }
        var out = self
        for i in 0..<count { for f in 0..<features {
            out.values[i * features + f] = Float((Double(values[i * features + f]) - mean[f]) / (std[f] > 0 ? std[f] : 1))
        } }
        return out
    }
}
