import CohortTensor
import Foundation
import XCTest
@testable import CohortFederated

final class DistributionTests: XCTestCase {
    // MARK: Gamma (Marsaglia-Tsang)

    func testGammaMatchesMeanAndVarianceAcrossShapes() {
        // Gamma(k, 1) has mean k and variance k. With 40,000 draws the standard error of
        // the mean is sqrt(k / 40000); 5 standard errors is a tight but safe bound.
        for shape in [0.1, 0.5, 1.0, 2.5, 9.0] {
            var random = RandomStream(seed: 11, stream: [UInt64(shape * 100)])
            let draws = (0 ..< 40_000).map { _ in random.gamma(shape: shape) }
            let (mean, variance) = moments(draws)
            XCTAssertEqual(mean, shape, accuracy: 5 * (shape / 40_000).squareRoot(), "shape \(shape)")
            XCTAssertEqual(variance, shape, accuracy: 0.08 * shape + 0.01, "shape \(shape)")
            XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0.isFinite })
        }
    }

    func testGammaScaleMultipliesTheDraw() {
        var a = RandomStream(seed: 5), b = RandomStream(seed: 5)
        XCTAssertEqual(a.gamma(shape: 2, scale: 3), 3 * b.gamma(shape: 2), accuracy: 1e-12)
    }

    func testLogGammaStaysFiniteForTinyShapes() {
        // U^(1/0.001) underflows to 0 in Double; the log-space draw must not.
        var random = RandomStream(seed: 3)
        let logs = (0 ..< 1000).map { _ in random.logGamma(shape: 0.001) }
        XCTAssertTrue(logs.allSatisfy(\.isFinite))
        XCTAssertLessThan(logs.min()!, -745, "some draws lie below Double's smallest positive value")
    }

    // MARK: Dirichlet

    func testDirichletSumsToOneWithComponentMeansAlphaOverTotal() {
        var random = RandomStream(seed: 8)
        let alphas = [0.5, 1.0, 2.5]
        var sums = [0.0, 0.0, 0.0]
        let n = 20_000
        for _ in 0 ..< n {
            let p = random.dirichlet(alphas)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertTrue(p.allSatisfy { $0 >= 0 })
            for i in 0 ..< 3 { sums[i] += p[i] }
        }
        for i in 0 ..< 3 { XCTAssertEqual(sums[i] / Double(n), alphas[i] / 4.0, accuracy: 0.006) }
    }

    func testTinyConcentrationGivesNearlyOneHotVectorsThatStillSumToOne() {
        // The top two log-Gamma draws differ by 1000 times the gap of two exponentials,
        // so the top component exceeds 0.99 in all but about 4% of draws.
        var random = RandomStream(seed: 9)
        var concentrated = 0
        for _ in 0 ..< 400 {
            let p = random.dirichlet(alpha: 0.001, count: 10)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertTrue(p.allSatisfy(\.isFinite))
            if p.max()! > 0.99 { concentrated += 1 }
        }
        XCTAssertGreaterThan(concentrated, 360)
    }

    // MARK: Log-normal, categorical, sampling without replacement

    func testLogNormalIsExpOfNormal() {
        var random = RandomStream(seed: 21)
        let logs = (0 ..< 40_000).map { _ in log(random.logNormal(mu: 4, sigma: 2)) }
        let (mean, variance) = moments(logs)
        XCTAssertEqual(mean, 4, accuracy: 0.05)
        XCTAssertEqual(variance, 4, accuracy: 0.15)
    }

    func testCategoricalInvertsTheCumulativeSum() {
        let p = [0.2, 0.0, 0.5, 0.3]
        XCTAssertEqual(RandomStream.categoricalIndex(p, uniform: 0.0), 0)
        XCTAssertEqual(RandomStream.categoricalIndex(p, uniform: 0.1999), 0)
        XCTAssertEqual(RandomStream.categoricalIndex(p, uniform: 0.2), 2, "zero-probability outcome skipped")
        XCTAssertEqual(RandomStream.categoricalIndex(p, uniform: 0.6999), 2)
        XCTAssertEqual(RandomStream.categoricalIndex(p, uniform: 0.7), 3)
        XCTAssertEqual(RandomStream.categoricalIndex([0.3, 0.3, 0.0], uniform: 0.9999), 1,
                       "a sum short of 1 falls to the last positive outcome")
    }

    func testCategoricalFrequencies() {
        var random = RandomStream(seed: 2)
        var counts = [0, 0, 0]
        for _ in 0 ..< 30_000 { counts[random.categorical([0.1, 0.6, 0.3])] += 1 }
        XCTAssertEqual(Double(counts[0]) / 30_000, 0.1, accuracy: 0.01)
        XCTAssertEqual(Double(counts[1]) / 30_000, 0.6, accuracy: 0.01)
    }

    func testSamplingWithoutReplacementIsDistinctAndUniform() {
        var random = RandomStream(seed: 4)
        var hits = [Int](repeating: 0, count: 10)
        for _ in 0 ..< 10_000 {
            let draw = random.sampleWithoutReplacement(3, from: 10)
            XCTAssertEqual(Set(draw).count, 3)
            for i in draw { hits[i] += 1 }
        }
        for h in hits { XCTAssertEqual(Double(h) / 10_000, 0.3, accuracy: 0.02) }
        XCTAssertEqual(random.sampleWithoutReplacement(10, from: 10).sorted(), Array(0 ..< 10))
    }
}
