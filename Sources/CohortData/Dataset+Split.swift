import CohortTensor

extension Dataset {
    // MARK: Seeded splits

    /// Splits off a held-out part, e.g. a validation set from a training set.
    ///
    /// The held-out part has `round(count * fraction)` samples. With `stratified` (the
    /// default) each class contributes in proportion to its size: class `k` gives
    /// `floor` or `ceil` of `classCounts[k] * heldOut / count` samples, the extra ones going
    /// to the classes with the largest remainders. Which samples go is drawn from
    /// `(seed, stream)` alone, so every rank computes the same split. Both parts keep the
    /// original sample order. The remaining part keeps this dataset's name; the held-out
    /// part is named `name + "/heldout"` (rename it with `renamed(_:)`).
    public func holdOut(fraction: Double, seed: UInt64, stream: UInt64 = 0,
                        stratified: Bool = true) throws -> (remaining: Dataset, heldOut: Dataset) {
        try Self.checkFraction(fraction, "held-out fraction")
        let target = Int((Double(count) * fraction).rounded())
        let (kept, held) = heldOutIndices(target: target, among: Array(0 ..< count),
                                          seed: seed, stream: stream, stratified: stratified)
        return (try subset(kept, name: name), try subset(held, name: name + "/heldout"))
    }

    /// Splits into train, validation and test parts of `round(count * fraction)` samples
    /// for validation and test; the rest trains. Seeded and optionally stratified as in
    /// `holdOut(fraction:seed:stream:stratified:)`.
    public func split(validationFraction: Double, testFraction: Double, seed: UInt64,
                      stream: UInt64 = 0, stratified: Bool = true) throws
        -> (train: Dataset, validation: Dataset, test: Dataset) {
        try Self.checkFraction(validationFraction, "validation fraction")
        try Self.checkFraction(testFraction, "test fraction")
        guard validationFraction + testFraction < 1 else {
            throw DatasetError.invalidArgument(
                "validation fraction \(validationFraction) plus test fraction \(testFraction) leaves nothing to train on")
        }
        let testTarget = Int((Double(count) * testFraction).rounded())
        let validationTarget = Int((Double(count) * validationFraction).rounded())
        let (rest, test) = heldOutIndices(target: testTarget, among: Array(0 ..< count),
                                          seed: seed, stream: stream &* 2, stratified: stratified)
        let (train, validation) = heldOutIndices(target: validationTarget, among: rest,
                                                 seed: seed, stream: stream &* 2 &+ 1, stratified: stratified)
        return (try subset(train, name: name + "/train"),
                try subset(validation, name: name + "/validation"),
                try subset(test, name: name + "/test"))
    }

    // MARK: Implementation

    /// Tags split streams apart from other streams named by the same seed.
    private static let splitPurpose: UInt64 = 0x5370_6C69_7453_6574 // "SplitSet"

    private static func checkFraction(_ fraction: Double, _ what: String) throws {
        guard fraction.isFinite, fraction >= 0, fraction < 1 else {
            throw DatasetError.invalidArgument("\(what) must be in [0, 1), got \(fraction)")
        }
    }

    /// Chooses `target` of `candidates` (sorted ascending) to hold out; returns both parts
    /// sorted ascending.
    private func heldOutIndices(target: Int, among candidates: [Int], seed: UInt64, stream: UInt64,
                                stratified: Bool) -> (kept: [Int], heldOut: [Int]) {
        var random = RandomStream(seed: seed, stream: [Self.splitPurpose, stream])
        let target = min(target, candidates.count)
        var chosen = [Bool](repeating: false, count: count)
        if stratified {
            var byClass = [[Int]](repeating: [], count: classCount)
            for index in candidates { byClass[Int(labels[index])].append(index) }
            let quotas = Self.apportion(target, over: byClass.map(\.count))
            for (members, quota) in zip(byClass, quotas) where quota > 0 {
                var shuffled = members
                random.shuffle(&shuffled)
                for index in shuffled.prefix(quota) { chosen[index] = true }
            }
        } else {
            var shuffled = candidates
            random.shuffle(&shuffled)
            for index in shuffled.prefix(target) { chosen[index] = true }
        }
        var kept: [Int] = []
        var held: [Int] = []
        kept.reserveCapacity(candidates.count - target)
        held.reserveCapacity(target)
        for index in candidates {
            if chosen[index] { held.append(index) } else { kept.append(index) }
        }
        return (kept, held)
    }

    /// Divides `total` among groups in proportion to their sizes by largest remainders
    /// (ties to the lower group index); each share is the floor or ceiling of its exact
    /// proportion and never exceeds its group.
    static func apportion(_ total: Int, over sizes: [Int]) -> [Int] {
        let population = sizes.reduce(0, +)
        guard population > 0, total > 0 else { return [Int](repeating: 0, count: sizes.count) }
        var shares = sizes.map { $0 * total / population }
        let remainders = sizes.map { $0 * total % population }
        var left = total - shares.reduce(0, +)
        let order = sizes.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for group in order where left > 0 && shares[group] < sizes[group] {
            shares[group] += 1
            left -= 1
        }
        return shares
    }
}
