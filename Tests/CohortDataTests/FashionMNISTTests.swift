import Foundation
import XCTest
import CohortData

/// Runs against Debian's `dataset-fashion-mnist` where it is installed (`scripts/setup.sh`).
final class FashionMNISTTests: XCTestCase {
    private func requireFashionMNIST() throws {
        guard FileManager.default.fileExists(atPath: DatasetCatalog.fashionMNISTDirectory + "/train-images-idx3-ubyte.gz") else {
            throw XCTSkip("Fashion-MNIST is not installed at \(DatasetCatalog.fashionMNISTDirectory)")
        }
    }

    func testFashionMNISTLoadsWithKnownCountsAndLabels() throws {
        try requireFashionMNIST()
        let (train, test) = try DatasetCatalog.load(name: "fashion-mnist")
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(train.sampleShape, [1, 28, 28])
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(train.classCounts, [Int](repeating: 6_000, count: 10))
        XCTAssertEqual(test.classCounts, [Int](repeating: 1_000, count: 10))
        XCTAssertEqual(Array(train.labels.prefix(5)), [9, 0, 0, 3, 0])
        XCTAssertEqual(Array(test.labels.prefix(5)), [9, 2, 1, 1, 6])
        XCTAssertEqual(train.classNames?[9], "Ankle boot")
        // The first training image: its pixel sum and its 15th row, in raw 0..255 values.
        let first = train.sampleFeatures(0).map { ($0 * 255).rounded() }
        XCTAssertEqual(first.reduce(0, +), 76_247)
        XCTAssertEqual(Array(first[14 * 28 ..< 15 * 28]), [
            0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77, 0,
        ])
        XCTAssertEqual(train.features.max(), 1)
    }

    /// Load time of the full training set; run with
    /// `COHORT_BENCH=1 swift test -c release --filter FashionMNISTTests/testLoadTime`.
    func testLoadTime() throws {
        try requireFashionMNIST()
        guard ProcessInfo.processInfo.environment["COHORT_BENCH"] != nil else {
            throw XCTSkip("set COHORT_BENCH=1 to time loading (use a release build)")
        }
        var timings: [Double] = []
        for _ in 0 ..< 5 {
            let start = DispatchTime.now().uptimeNanoseconds
            let (train, _) = try DatasetCatalog.load(name: "fashion-mnist")
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            XCTAssertEqual(train.count, 60_000)
            timings.append(seconds)
        }
        let trainOnly = DispatchTime.now().uptimeNanoseconds
        let train = try IDXFormat.loadDataset(imagesPath: DatasetCatalog.fashionMNISTDirectory + "/train-images-idx3-ubyte.gz",
                                              labelsPath: DatasetCatalog.fashionMNISTDirectory + "/train-labels-idx1-ubyte.gz",
                                              name: "train", pixelScale: 1 / 255)
        let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - trainOnly) / 1e9
        XCTAssertEqual(train.count, 60_000)
        print(String(format: "fashion-mnist load: train+test best %.3f s, median %.3f s; train alone %.3f s",
                     timings.min()!, timings.sorted()[2], trainSeconds))

        // One epoch of shuffled batches of 128 copied into reused buffers.
        var sampler = try MinibatchSampler(sampleCount: train.count, batchSize: 128, seed: 1)
        let inputs = UnsafeMutableBufferPointer<Float>.allocate(capacity: 128 * 784)
        let targets = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 128)
        defer { inputs.deallocate(); targets.deallocate() }
        let epochStart = DispatchTime.now().uptimeNanoseconds
        sampler.startEpoch(1)
        var filled = 0
        for batch in 0 ..< sampler.batchCount {
            filled += train.fillBatch(sampler.batchIndices(batch), features: inputs, labels: targets)
        }
        let epochSeconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
        XCTAssertEqual(filled, 60_000)
        print(String(format: "fashion-mnist epoch of %d batches of 128: order + copies %.3f s", sampler.batchCount, epochSeconds))
    }
}
