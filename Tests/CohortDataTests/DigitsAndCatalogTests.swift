import XCTest
import CohortData

final class DigitsAndCatalogTests: XCTestCase {
    func testEmbeddedDigitsHoldTheKnownSamples() throws {
        let digits = try EmbeddedDigits.load()
        XCTAssertEqual(digits.count, 1797)
        XCTAssertEqual(digits.featureCount, 64)
        XCTAssertEqual(digits.sampleShape, [1, 8, 8])
        XCTAssertEqual(digits.classCount, 10)
        XCTAssertEqual(digits.classCounts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        XCTAssertEqual(digits.sampleFeatures(0), [
            0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0,
            0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
            0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0,
            0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
        ])
        XCTAssertEqual(Array(digits.labels.prefix(3)), [0, 1, 2])
        XCTAssertEqual(digits.labels.last, 8)
        XCTAssertEqual(digits.features.reduce(0, +), 561_718, "every pixel of every image")
        XCTAssertEqual(digits.features.max(), 16)
    }

    func testCatalogDigitsSplitIsFixedStratifiedAndScaled() throws {
        let (train, test) = try DatasetCatalog.load(name: "digits")
        XCTAssertEqual(train.count, 1348)
        XCTAssertEqual(test.count, 449)
        XCTAssertEqual(test.classCounts, [45, 45, 44, 46, 45, 45, 45, 45, 44, 45])
        XCTAssertEqual(train.name, "digits/train")
        XCTAssertEqual(test.name, "digits/test")
        XCTAssertEqual(train.features.max(), 1)
        XCTAssertEqual(train.features.min(), 0)
        let again = try DatasetCatalog.load(name: "DIGITS", dataDirectory: "/ignored")
        XCTAssertEqual(again.test, test)
        XCTAssertEqual((train.features + test.features).reduce(0, +), 561_718 / 16, accuracy: 0.05)
    }

    func testDigitsStatisticsMatchAnIndependentComputation() throws {
        // Reference values from NumPy over the same CSV (population standard deviation).
        let digits = try EmbeddedDigits.load()
        let perFeature = try Normalization.fit(.standardizePerFeature, on: digits)
        XCTAssertEqual(perFeature.shift[0], 0)
        XCTAssertEqual(perFeature.scale[0], 1, "pixel 0 is always blank")
        XCTAssertEqual(perFeature.shift[1], 0.30383973, accuracy: 1e-6)
        XCTAssertEqual(perFeature.shift[2], 5.20478575, accuracy: 1e-5)
        XCTAssertEqual(1 / perFeature.scale[2], 4.75350317, accuracy: 1e-5)
        XCTAssertEqual(1 / perFeature.scale[3], 4.24765948, accuracy: 1e-5)
        let global = try Normalization.fit(.standardizeGlobal, on: digits)
        XCTAssertEqual(global.shift[0], 4.88416458, accuracy: 1e-5)
        XCTAssertEqual(1 / global.scale[0], 6.01678755, accuracy: 1e-5)
    }

    func testUnknownNameAndMissingPathErrors() {
        XCTAssertEqual(datasetError { try DatasetCatalog.load(name: "cifar") }?.description,
                       "unknown dataset 'cifar': expected one of digits, fashion-mnist, mnist, a CSV file or a directory of IDX files")
        XCTAssertEqual(datasetError { try DatasetCatalog.load(name: "/nowhere/data.csv") }?.description,
                       "/nowhere/data.csv: no such file or directory")
    }
}
