import XCTest
import CohortData

final class SplitTests: XCTestCase {
    /// 100 samples: 50 of class 0, 30 of class 1, 20 of class 2, interleaved.
    private func threeClasses() throws -> Dataset {
        let labels: [Int32] = (0 ..< 100).map { i in i % 10 < 5 ? 0 : (i % 10 < 8 ? 1 : 2) }
        return try tracedDataset(labels: labels, classCount: 3)
    }

    /// The source index of each sample of a traced dataset.
    private func sources(_ data: Dataset) -> [Int] {
        (0 ..< data.count).map { Int(data.sampleFeatures($0)[0]) }
    }

    func testStratifiedHoldOutKeepsClassProportionsAndPartitionsTheData() throws {
        let data = try threeClasses()
        let (rest, held) = try data.holdOut(fraction: 0.2, seed: 7)
        XCTAssertEqual(held.count, 20)
        XCTAssertEqual(rest.count, 80)
        XCTAssertEqual(held.classCounts, [10, 6, 4])
        XCTAssertEqual(rest.classCounts, [40, 24, 16])
        let all = sources(rest) + sources(held)
        XCTAssertEqual(Set(all).count, 100, "every sample lands in exactly one part")
        XCTAssertEqual(sources(held), sources(held).sorted(), "parts keep the original order")
        // Labels still travel with their features.
        for i in 0 ..< held.count {
            XCTAssertEqual(held.labels[i], data.labels[sources(held)[i]])
        }
    }

    func testSplitIsDeterministicInTheSeedAndChangesWithIt() throws {
        let data = try threeClasses()
        let first = try data.holdOut(fraction: 0.3, seed: 11)
        let again = try data.holdOut(fraction: 0.3, seed: 11)
        let other = try data.holdOut(fraction: 0.3, seed: 12)
        XCTAssertEqual(first.heldOut, again.heldOut)
        XCTAssertNotEqual(sources(first.heldOut), sources(other.heldOut))
    }

    func testUnstratifiedHoldOutHasTheRoundedSize() throws {
        let data = try threeClasses()
        let (rest, held) = try data.holdOut(fraction: 0.333, seed: 3, stratified: false)
        XCTAssertEqual(held.count, 33)
        XCTAssertEqual(rest.count, 67)
        XCTAssertEqual(Set(sources(rest) + sources(held)).count, 100)
    }

    func testThreeWaySplitSizesAndDisjointness() throws {
        let data = try threeClasses()
        let parts = try data.split(validationFraction: 0.1, testFraction: 0.2, seed: 5)
        XCTAssertEqual([parts.train.count, parts.validation.count, parts.test.count], [70, 10, 20])
        XCTAssertEqual(parts.test.classCounts, [10, 6, 4])
        XCTAssertEqual(parts.validation.classCounts, [5, 3, 2])
        let all = sources(parts.train) + sources(parts.validation) + sources(parts.test)
        XCTAssertEqual(all.count, 100)
        XCTAssertEqual(Set(all).count, 100)
        XCTAssertEqual(parts.validation.name, "traced/validation")
    }

    func testRejectsFractionsOutsideTheUnitInterval() throws {
        let data = try threeClasses()
        XCTAssertEqual(datasetError { try data.holdOut(fraction: 1.0, seed: 1) }?.description,
                       "held-out fraction must be in [0, 1), got 1.0")
        XCTAssertNotNil(datasetError { try data.holdOut(fraction: -0.1, seed: 1) })
        XCTAssertNotNil(datasetError { try data.split(validationFraction: 0.5, testFraction: 0.5, seed: 1) })
    }
}
