import Foundation
import XCTest
import CohortData

final class IDXFormatTests: XCTestCase {
    /// Three 2x2 images whose pixels count up from 0 and labels 2, 0, 1.
    private let images = IDXFormat.Images(count: 3, rows: 2, columns: 2, pixels: Array(0 ..< 12).map { UInt8($0 * 20) })
    private let labels: [UInt8] = [2, 0, 1]

    // MARK: Reading

    func testRawAndCompressedFilesLoadTheSameDataset() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/i.idx")
        try IDXFormat.write(labels: labels, to: dir + "/l.idx")
        try IDXFormat.write(images, to: dir + "/i.idx.gz", compressed: true)
        try IDXFormat.write(labels: labels, to: dir + "/l.idx.gz", compressed: true)
        let raw = try IDXFormat.loadDataset(imagesPath: dir + "/i.idx", labelsPath: dir + "/l.idx", name: "tiny")
        let packed = try IDXFormat.loadDataset(imagesPath: dir + "/i.idx.gz", labelsPath: dir + "/l.idx.gz", name: "tiny")
        XCTAssertEqual(raw, packed)
        XCTAssertEqual(raw.sampleShape, [1, 2, 2])
        XCTAssertEqual(raw.count, 3)
        XCTAssertEqual(raw.classCount, 3)
        XCTAssertEqual(raw.labels, [2, 0, 1])
        XCTAssertEqual(raw.sampleFeatures(1), [80, 100, 120, 140])
        let scaled = try IDXFormat.loadDataset(imagesPath: dir + "/i.idx.gz", labelsPath: dir + "/l.idx.gz",
                                               name: "tiny", classCount: 10, pixelScale: 1 / 255)
        XCTAssertEqual(scaled.classCount, 10)
        XCTAssertEqual(scaled.features[11], 220 / 255, accuracy: 1e-7)
    }

    func testHeaderIsBigEndian() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/i.idx")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/i.idx")))
        XCTAssertEqual(Array(bytes.prefix(16)), [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2])
        XCTAssertEqual(bytes.count, 16 + 12)
        XCTAssertEqual(try IDXFormat.readImages(dir + "/i.idx"), images)
    }

    // MARK: Errors

    func testWrongMagicNumberNamesTheFile() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(labels: labels, to: dir + "/labels.idx")
        let error = datasetError { try IDXFormat.readImages(dir + "/labels.idx") }
        XCTAssertEqual(error?.description,
                       "\(dir)/labels.idx: not an IDX file of the expected kind: magic number is 0x00000801, expected 0x00000803")
        try writeFile(dir, "text.idx", "hello world, not IDX at all")
        XCTAssertEqual(datasetError { try IDXFormat.readLabels(dir + "/text.idx") },
                       .wrongMagicNumber(path: dir + "/text.idx", found: 0x6865_6C6C, expected: 0x0000_0801))
    }

    func testTruncatedRawFileSaysHowMuchIsMissing() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/i.idx")
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/i.idx")))
        let path = try writeFile(dir, "cut.idx", bytes: Array(whole.dropLast(2)))
        XCTAssertEqual(datasetError { try IDXFormat.readImages(path) }?.description,
                       "\(path): file is truncated: the header promises 3 x 2 x 2 = 12 bytes of data but only 10 follow")
        let stub = try writeFile(dir, "stub.idx", bytes: [0, 0, 8, 3, 0, 0])
        XCTAssertEqual(datasetError { try IDXFormat.readImages(stub) }?.description,
                       "\(stub): file is truncated: 6 bytes, too short for the 3 dimension sizes of the header")
    }

    func testTruncatedCompressedFileIsReported() throws {
        let dir = try makeTemporaryDirectory(self)
        let big = IDXFormat.Images(count: 50, rows: 28, columns: 28,
                                   pixels: (0 ..< 50 * 784).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        try IDXFormat.write(big, to: dir + "/i.gz", compressed: true)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/i.gz")))
        let path = try writeFile(dir, "cut.gz", bytes: Array(whole.prefix(whole.count * 2 / 3)))
        let error = datasetError { try IDXFormat.readImages(path) }
        guard case .truncated(path: path, _)? = error else { return XCTFail("expected truncated, got \(String(describing: error))") }
        XCTAssertTrue(error!.description.hasPrefix("\(path): file is truncated"))
    }

    func testTrailingBytesAreRejected() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(labels: labels, to: dir + "/l.idx")
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/l.idx")))
        let path = try writeFile(dir, "long.idx", bytes: whole + [7, 7])
        XCTAssertEqual(datasetError { try IDXFormat.readLabels(path) }?.description,
                       "\(path): malformed header: 2 bytes follow the 3 bytes the dimensions [3] describe")
    }

    func testLabelAndImageCountMismatchNamesBothFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/i.idx")
        try IDXFormat.write(labels: [1, 2, 3, 4], to: dir + "/l.idx")
        XCTAssertEqual(datasetError { try IDXFormat.loadDataset(imagesPath: dir + "/i.idx", labelsPath: dir + "/l.idx", name: "x") }?
                        .description,
                       "\(dir)/l.idx: holds 4 labels but \(dir)/i.idx holds 3 images; the two files must describe the same samples")
    }

    func testMissingFileAndDirectoryAreReported() throws {
        let dir = try makeTemporaryDirectory(self)
        XCTAssertEqual(datasetError { try IDXFormat.readImages(dir + "/absent.idx") }?.description,
                       "\(dir)/absent.idx: no such file or directory")
        XCTAssertEqual(datasetError { try IDXFormat.readImages(dir) }?.description,
                       "\(dir): cannot be read (it is a directory)")
    }

    func testLabelsBeyondTheClassCountAreRejected() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/i.idx")
        try IDXFormat.write(labels: [0, 1, 12], to: dir + "/l.idx")
        XCTAssertEqual(datasetError {
            try IDXFormat.loadDataset(imagesPath: dir + "/i.idx", labelsPath: dir + "/l.idx", name: "x", classCount: 10)
        }?.description, "\(dir)/l.idx: label 12 does not fit 10 classes")
    }

    // MARK: Directories

    func testMNISTStyleDirectoryWithMixedNamingLoadsThroughTheCatalog() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/train-images-idx3-ubyte.gz", compressed: true)
        try IDXFormat.write(labels: labels, to: dir + "/train-labels-idx1-ubyte")
        let test = IDXFormat.Images(count: 1, rows: 2, columns: 2, pixels: [255, 0, 0, 255])
        try IDXFormat.write(test, to: dir + "/t10k-images.idx3-ubyte")
        try IDXFormat.write(labels: [9], to: dir + "/t10k-labels.idx1-ubyte.gz", compressed: true)
        let viaPath = try DatasetCatalog.load(name: dir)
        XCTAssertEqual(viaPath.train.count, 3)
        XCTAssertEqual(viaPath.test.count, 1)
        XCTAssertEqual(viaPath.test.features, [1, 0, 0, 1], "pixels are scaled to [0, 1]")
        XCTAssertEqual(viaPath.test.labels, [9])
        XCTAssertEqual(viaPath.train.classCount, 10)
        let viaName = try DatasetCatalog.load(name: "mnist", dataDirectory: dir)
        XCTAssertEqual(viaName.train.features, viaPath.train.features)
        XCTAssertEqual(viaName.train.name, "mnist/train")
        XCTAssertEqual(viaName.test.name, "mnist/test")
    }

    func testDirectoryWithoutTestFilesSaysWhatItLookedFor() throws {
        let dir = try makeTemporaryDirectory(self)
        try IDXFormat.write(images, to: dir + "/train-images-idx3-ubyte")
        try IDXFormat.write(labels: labels, to: dir + "/train-labels-idx1-ubyte")
        XCTAssertEqual(datasetError { try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: dir) }?.description,
                       "\(dir): no dataset files found (looked for t10k-images-idx3-ubyte.gz, t10k-images-idx3-ubyte, t10k-images.idx3-ubyte.gz, t10k-images.idx3-ubyte)")
        XCTAssertEqual(datasetError { try DatasetCatalog.load(name: "mnist", dataDirectory: dir + "/nowhere") }?.description,
                       "\(dir)/nowhere: no such file or directory")
    }
}
