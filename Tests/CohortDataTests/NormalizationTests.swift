import Foundation
import XCTest
import CohortData

final class NormalizationTests: XCTestCase {
    /// Two features: the first 1, 2, 3, 4; the second always 5.
    private func sample() throws -> Dataset {
        try Dataset(name: "n", sampleShape: [2], features: [1, 5, 2, 5, 3, 5, 4, 5], labels: [0, 1, 0, 1], classCount: 2)
    }

    func testPerFeatureStandardizationGivesZeroMeanUnitDeviation() throws {
        let data = try sample()
        let norm = try Normalization.fit(.standardizePerFeature, on: data)
        XCTAssertEqual(norm.shift, [2.5, 5])
        XCTAssertEqual(norm.scale[0], Float(1 / 1.25.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(norm.scale[1], 1, "a constant feature keeps scale 1")
        let scaled = try norm.applied(to: data)
        let first = stride(from: 0, to: 8, by: 2).map { scaled.features[$0] }
        XCTAssertEqual(first.reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertEqual(first.map { $0 * $0 }.reduce(0, +) / 4, 1, accuracy: 1e-5)
        XCTAssertEqual(scaled.features[1], 0)
    }

    func testStatisticsComeFromTheFittingSetOnly() throws {
        let train = try sample()
        let test = try Dataset(name: "t", sampleShape: [2], features: [6, 5], labels: [0], classCount: 2)
        let norm = try Normalization.fit(.minMaxPerFeature, on: train)
        let scaledTest = try norm.applied(to: test)
        assertClose(scaledTest.features, [5.0 / 3.0, 0]) // outside the train range maps outside [0, 1]
        let scaledTrain = try norm.applied(to: train)
        assertClose(scaledTrain.features, [0, 0, 1.0 / 3.0, 0, 2.0 / 3.0, 0, 1, 0])
    }

    func testGlobalMethodsUseOnePairForAllValues() throws {
        let data = try sample()
        let minMax = try Normalization.fit(.minMaxGlobal, on: data)
        XCTAssertEqual(minMax.shift, [1])
        XCTAssertEqual(minMax.scale, [0.25])
        XCTAssertEqual(try minMax.applied(to: data).features, [0, 1, 0.25, 1, 0.5, 1, 0.75, 1])
        let standard = try Normalization.fit(.standardizeGlobal, on: data)
        XCTAssertEqual(standard.shift, [3.75])
        let values = try standard.applied(to: data).features
        XCTAssertEqual(values.reduce(0, +), 0, accuracy: 1e-5)
        XCTAssertEqual(values.map { $0 * $0 }.reduce(0, +) / 8, 1, accuracy: 1e-5)
    }

    func testApplyingToAnotherSampleSizeIsAnError() throws {
        let norm = try Normalization.fit(.standardizePerFeature, on: try sample())
        var wide = try Dataset(name: "w", sampleShape: [3], features: [1, 2, 3], labels: [0], classCount: 1)
        XCTAssertEqual(datasetError { try norm.apply(to: &wide) }?.description,
                       "normalization fitted on 2 features cannot be applied to w with 3")
    }

    func testNormalizationRoundTripsThroughCodable() throws {
        let norm = try Normalization.fit(.standardizePerFeature, on: try sample())
        let decoded = try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(norm))
        XCTAssertEqual(decoded, norm)
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: 1e-6, file: file, line: line) }
    }
}
