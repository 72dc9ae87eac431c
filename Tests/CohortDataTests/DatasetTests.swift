import XCTest
import CohortData

final class DatasetTests: XCTestCase {
    // MARK: Validation

    func testInitRejectsFeatureCountThatIsNotWholeSamples() {
        let error = datasetError {
            try Dataset(name: "d", sampleShape: [2, 2], features: [1, 2, 3, 4, 5], labels: [0], classCount: 2)
        }
        XCTAssertEqual(error?.description, "dataset d: 5 feature values do not make 1 samples of shape [2, 2]")
    }

    func testInitRejectsLabelOutsideClassCount() {
        let error = datasetError {
            try Dataset(name: "d", sampleShape: [1], features: [0, 1, 2], labels: [0, 3, 1], classCount: 3)
        }
        XCTAssertEqual(error?.description, "dataset d: label 3 of sample 1 is outside 0..<3")
    }

    func testInitRejectsEmptyShapeAndNegativeLabel() {
        XCTAssertNotNil(datasetError { try Dataset(name: "d", sampleShape: [], features: [], labels: [], classCount: 1) })
        XCTAssertNotNil(datasetError { try Dataset(name: "d", sampleShape: [1], features: [0], labels: [-1], classCount: 2) })
    }

    // MARK: Size and access

    func testCountsAndSampleAccess() throws {
        let data = try tracedDataset(labels: [2, 0, 2, 1, 2], classCount: 4)
        XCTAssertEqual(data.count, 5)
        XCTAssertEqual(data.featureCount, 3)
        XCTAssertEqual(data.classCounts, [1, 1, 3, 0])
        XCTAssertEqual(data.sampleFeatures(3), [3, 30, 300])
    }

    // MARK: Deriving

    func testSubsetCopiesSamplesInTheGivenOrderWithRepeats() throws {
        let data = try tracedDataset(labels: [0, 1, 2, 3], classCount: 4)
        let picked = try data.subset([3, 1, 3], name: "picked")
        XCTAssertEqual(picked.name, "picked")
        XCTAssertEqual(picked.labels, [3, 1, 3])
        XCTAssertEqual(picked.features, [3, 30, 300, 1, 10, 100, 3, 30, 300])
        XCTAssertEqual(picked.classCount, 4)
    }

    func testSubsetRejectsIndexOutOfRange() throws {
        let data = try tracedDataset(labels: [0, 1], classCount: 2)
        XCTAssertEqual(datasetError { try data.subset([0, 2]) }?.description,
                       "dataset traced: subset index 2 outside 0..<2")
    }

    func testReshapeKeepsValuesAndRejectsOtherSizes() throws {
        let data = try Dataset(name: "d", sampleShape: [4], features: [1, 2, 3, 4, 5, 6, 7, 8], labels: [0, 1], classCount: 2)
        let image = try data.reshaped(to: [1, 2, 2])
        XCTAssertEqual(image.sampleShape, [1, 2, 2])
        XCTAssertEqual(image.features, data.features)
        XCTAssertNotNil(datasetError { try data.reshaped(to: [3]) })
    }

    // MARK: Batch filling

    func testFillBatchCopiesSelectedSamplesIntoCallerBuffers() throws {
        let data = try tracedDataset(labels: [0, 1, 2, 0, 1], classCount: 3)
        var features = [Float](repeating: -1, count: 4 * 3)
        var labels = [Int32](repeating: -1, count: 4)
        let written = features.withUnsafeMutableBufferPointer { f in
            labels.withUnsafeMutableBufferPointer { l in data.fillBatch([4, 0, 2], features: f, labels: l) }
        }
        XCTAssertEqual(written, 3)
        XCTAssertEqual(Array(features[0 ..< 9]), [4, 40, 400, 0, 0, 0, 2, 20, 200])
        XCTAssertEqual(Array(features[9...]), [-1, -1, -1], "a short batch leaves the rest of the buffer alone")
        XCTAssertEqual(labels, [1, 0, 2, -1])
    }

    func testFillBatchReusesTheSameBufferAcrossCalls() throws {
        let data = try tracedDataset(labels: [0, 1, 2, 0], classCount: 3)
        let features = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        let labels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2)
        defer { features.deallocate(); labels.deallocate() }
        data.fillBatch([1, 2], features: features, labels: labels)
        data.fillBatch([3, 0], features: features, labels: labels)
        XCTAssertEqual(Array(features), [3, 30, 300, 0, 0, 0])
        XCTAssertEqual(Array(labels), [0, 0])
    }
}
