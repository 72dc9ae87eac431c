import CohortFiles
import CohortTensor
import XCTest
@testable import CohortPipelines

/// The stages on small matrices with known answers.
final class PipelineStageTests: XCTestCase {
    /// 6 rows x 3 columns, with a dominant direction along (1, 1, 0).
    let x: [Float] = [2, 2.1, 0.1, -1, -0.9, 0.3, 3, 3.2, -0.2, -2, -2.1, 0.1, 0.5, 0.4, -0.3, -2.5, -2.7, 0]

    func set(_ rows: [Float], columns: Int = 3) -> FeatureSet {
        FeatureSet(columns: columns, train: rows, validation: Array(rows.prefix(columns * 2)), test: Array(rows.suffix(columns)))
    }

    func testSymmetricEigenOfAKnownMatrix() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/sqrt 2 and (1, 1)/sqrt 2.
        let (values, vectors) = try LinearAlgebra.symmetricEigen([2, 1, 1, 2], n: 2)
        XCTAssertEqual(values[0], 1, accuracy: 1e-5)
        XCTAssertEqual(values[1], 3, accuracy: 1e-5)
        XCTAssertEqual(abs(vectors[2]), Float(0.5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(vectors[2], vectors[3], accuracy: 1e-5)
        XCTAssertEqual(vectors[0], -vectors[1], accuracy: 1e-5)
        XCTAssertThrowsError(try LinearAlgebra.symmetricEigen([1, 2, 3], n: 2))
    }

    func testStandardizeGivesZeroMeanAndUnitVariance() throws {
        let out = try PipelineStage.standardize.apply(to: set(x), seed: 1, streamKey: 1)
        for c in 0..<3 {
            let column = (0..<6).map { Double(out.train[$0 * 3 + c]) }
            let mean = column.reduce(0, +) / 6
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(variance, 1, accuracy: 1e-5)
        }
        // Validation rows use the training split's moments, not their own.
        XCTAssertEqual(out.validation, Array(out.train.prefix(6)))
    }

    func testPCAProjectsOnTheLeadingAxisAndKeepsItsVariance() throws {
        let out = try PipelineStage.pca(components: 1).apply(to: set(x), seed: 1, streamKey: 1)
        XCTAssertEqual(out.columns, 1)
        XCTAssertEqual(out.train.count, 6)
        // The projection of row 0 on ~(1, 1, 0)/sqrt 2 after centring; the sign is fixed
        // so the axis's largest entry is positive.
        var mean: [Float] = [0, 0, 0]
        for r in 0..<6 { for c in 0..<3 { mean[c] += x[r * 3 + c] / 6 } }
        let centred0 = x[0] - mean[0], centred1 = x[1] - mean[1]
        let expected: Float = (centred0 + centred1) / Float(2).squareRoot()
        XCTAssertEqual(out.train[0], expected, accuracy: 0.05)
        // Two components keep more of the variance than one, and are uncorrelated.
        let two = try PipelineStage.pca(components: 2).apply(to: set(x), seed: 1, streamKey: 1)
        let dot = (0..<6).map { two.train[$0 * 2] * two.train[$0 * 2 + 1] }.reduce(0, +)
        XCTAssertEqual(dot, 0, accuracy: 1e-3)
        XCTAssertThrowsError(try PipelineStage.pca(components: 4).apply(to: set(x), seed: 1, streamKey: 1)) { error in
            XCTAssertEqual("\(error)", "pca.components is 4, more than the 3 columns it receives")
        }
    }

    func testRandomFourierFeaturesApproximateTheGaussianKernel() throws {
        var rng = RandomStream(seed: 3)
        let rows = (0..<(2 * 4)).map { _ in Float(rng.normal() * 0.5) }
        let input = FeatureSet(columns: 4, train: rows, validation: rows, test: rows)
        let out = try PipelineStage.rff(dimension: 8192, bandwidth: 1).apply(to: input, seed: 7, streamKey: 42)
        let d = 8192
        let z = (0..<d).map { out.train[$0] * out.train[d + $0] }.reduce(0, +)
        let squared = (0..<4).map { pow(Double(rows[$0] - rows[4 + $0]), 2) }.reduce(0, +)
        let sigma2 = 4.0 // (bandwidth x sqrt(columns))^2
        XCTAssertEqual(Double(z), exp(-squared / (2 * sigma2)), accuracy: 0.03)
        // One key, one output; another key, other features.
        let again = try PipelineStage.rff(dimension: 8192, bandwidth: 1).apply(to: input, seed: 7, streamKey: 42)
        XCTAssertEqual(out, again)
        let other = try PipelineStage.rff(dimension: 8192, bandwidth: 1).apply(to: input, seed: 7, streamKey: 43)
        XCTAssertNotEqual(out.train, other.train)
    }

    func testOutputsTooLargeToHoldAreRefusedBeforeAllocating() {
        // 40,000 random features of 60,000 columns: a 2.4e9-value projection.
        let wide = FeatureSet(columns: 60_000, train: [Float](repeating: 0, count: 120_000), validation: [], test: [])
        XCTAssertThrowsError(try PipelineStage.rff(dimension: 40_000, bandwidth: 1).apply(to: wide, seed: 1, streamKey: 1)) { error in
            XCTAssertTrue("\(error)".hasPrefix("rff(dimension=40000, bandwidth=1.0) on 2 rows of 60000 columns would hold 2.4e+09 values"), "\(error)")
        }
    }

    func testPolynomialFeaturesAreEveryMonomial() throws {
        let input = FeatureSet(columns: 2, train: [2, 3, 1, -1], validation: [2, 3], test: [2, 3])
        let out = try PipelineStage.poly(degree: 2).apply(to: input, seed: 1, streamKey: 1)
        // x, x^2, xy, y, y^2 in the order the monomials are generated.
        XCTAssertEqual(out.columns, 5)
        XCTAssertEqual(Array(out.train.prefix(5)), [2, 4, 6, 3, 9])
        XCTAssertEqual(try PipelineStage.poly(degree: 3).outputColumns(for: 10), 285)
        XCTAssertThrowsError(try PipelineStage.poly(degree: 2).outputColumns(for: 784)) { error in
            XCTAssertTrue("\(error)".contains("more than 65536"), "\(error)")
        }
    }

    func testFeatureFilesRoundTripAndRefuseWhatIsNotTheirs() throws {
        let f = set(x)
        let data = f.encoded(key: "00abc", cost: 1.25)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try data.write(to: url)
        let back = try XCTUnwrap(FeatureSet.read(path: url.path, key: "00abc"))
        XCTAssertEqual(back.features, f)
        XCTAssertEqual(back.cost, 1.25)
        XCTAssertNil(FeatureSet.read(path: url.path, key: "00abd"))
        try data.prefix(data.count - 4).write(to: url)
        XCTAssertNil(FeatureSet.read(path: url.path, key: "00abc"))
        try Data("not a cache file".utf8).write(to: url)
        XCTAssertNil(FeatureSet.read(path: url.path, key: "00abc"))
        XCTAssertNil(FeatureSet.read(path: url.path + ".missing", key: "00abc"))
    }

    func testDiskCacheEvictsByPolicyAndTreatsDamageAsAMiss() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("disk-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = set(x)   // 30 floats: 120 bytes, plus the header
        let entry = f.encoded(key: "a", cost: 1).count
        let cache = DiskStageCache(directory: dir, capacity: 2 * entry, policy: .lru)
        try cache.put("a", f, cost: 1)
        try cache.put("b", f, cost: 2)
        XCTAssertNotNil(cache.get("a"))          // a is now the more recent
        try cache.put("c", f, cost: 3)           // evicts b
        XCTAssertEqual(Set(cache.entries().map(\.key)), ["a", "c"])
        XCTAssertEqual(cache.get("c")?.cost, 3)
        // A damaged file is a miss, not an error.
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("a.features"))
        XCTAssertNil(cache.get("a"))
        // Capacity 0: nothing is stored.
        let none = DiskStageCache(directory: dir.appendingPathComponent("none"), capacity: 0, policy: .lru)
        try none.put("a", f, cost: 1)
        XCTAssertNil(none.get("a"))
    }

    func testClaimsMakeOthersWaitAndStaleClaimsAreIgnored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = DiskStageCache(directory: dir, capacity: 1 << 20, policy: .lru)
        XCTAssertTrue(cache.claim("k"))
        XCTAssertFalse(cache.claim("k"))          // a live claim (this process) holds
        let f = set(x)
        let writer = Thread {
            usleep(50_000)
            try? cache.put("k", f, cost: 2)
            cache.release("k")
        }
        writer.start()
        XCTAssertEqual(cache.awaitClaimed("k")?.features, f)
        // A claim whose process is gone is stale: taken over at once.
        try Data("\(DiskStageCache.hostName) 2147483646 \(Date().timeIntervalSince1970)\n".utf8).write(to: dir.appendingPathComponent("j.claim"))
        XCTAssertTrue(cache.claimIsStale("j"))
        XCTAssertTrue(cache.claim("j"))
        // So is one older than the limit, wherever it was made.
        try Data("elsewhere 1 \(Date().timeIntervalSince1970 - DiskStageCache.claimLimit - 1)\n".utf8).write(to: dir.appendingPathComponent("i.claim"))
        XCTAssertTrue(cache.claim("i"))
    }

    func testMemoryCacheEvictsAndRefusesOversizedEntries() {
        let f = set(x)
        let cache = MemoryStageCache(capacity: 2 * f.bytes, policy: .lfu)
        cache.put("a", f, cost: 1)
        cache.put("b", f, cost: 1)
        _ = cache.get("b")
        cache.put("c", f, cost: 1)   // a has no hits: it goes
        XCTAssertEqual(cache.keys, ["b", "c"])
        let tiny = MemoryStageCache(capacity: f.bytes - 1, policy: .lru)
        tiny.put("a", f, cost: 1)
        XCTAssertEqual(tiny.keys, [])
    }
}
