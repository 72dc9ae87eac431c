import XCTest
import CohortData

final class CSVDatasetTests: XCTestCase {
    // MARK: Layouts

    func testHeaderIsDetectedAndLabelIsTheLastColumnByDefault() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "iris.csv", "length,width,label\n1.5,0.25,1\n-2,3e1,0\n")
        let data = try CSVDataset.load(path)
        XCTAssertEqual(data.name, "iris")
        XCTAssertEqual(data.sampleShape, [2])
        XCTAssertEqual(data.features, [1.5, 0.25, -2, 30])
        XCTAssertEqual(data.labels, [1, 0])
        XCTAssertEqual(data.classCount, 2)
    }

    func testFileWithoutHeaderKeepsItsFirstRow() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "plain.csv", "1,2,3\n4,5,6\n")
        let data = try CSVDataset.load(path)
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.features, [1, 2, 4, 5])
        XCTAssertEqual(data.labels, [3, 6])
        XCTAssertEqual(data.classCount, 7)
    }

    func testLabelColumnByIndexFirstAndName() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "c.csv", "a,y,b\n1,2,3\n4,0,6\n")
        let byName = try CSVDataset.load(path, options: .init(labelColumn: .named("y")))
        XCTAssertEqual(byName.features, [1, 3, 4, 6])
        XCTAssertEqual(byName.labels, [2, 0])
        XCTAssertEqual(try CSVDataset.load(path, options: .init(labelColumn: .index(1))), byName)
        let first = try CSVDataset.load(path, options: .init(labelColumn: .first))
        XCTAssertEqual(first.labels, [1, 4])
        XCTAssertEqual(first.features, [2, 3, 0, 6])
    }

    func testCRLFBlankLinesQuotesSpacesAndOtherDelimiters() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "messy.tsv", "\r\n\"x\"\t \"z\" \tclass\r\n 1 \t\"2\"\t1\r\n\r\n  \n3\t4\t0\r\n")
        let data = try CSVDataset.load(path, options: .init(delimiter: "\t"))
        XCTAssertEqual(data.features, [1, 2, 3, 4])
        XCTAssertEqual(data.labels, [1, 0])
    }

    func testTextLabelsBecomeSortedClassNames() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "named.csv", "f,species\n1,virginica\n2,setosa\n3,virginica\n")
        let data = try CSVDataset.load(path, options: .init(labels: .names))
        XCTAssertEqual(data.classNames, ["setosa", "virginica"])
        XCTAssertEqual(data.labels, [1, 0, 1])
    }

    func testGzipCompressedCSVAndSampleShape() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "img.csv.gz", bytes: Gzip.compress(Array("1,2,3,4,1\n5,6,7,8,0\n".utf8)))
        let data = try CSVDataset.load(path, options: .init(classCount: 5, sampleShape: [1, 2, 2]))
        XCTAssertEqual(data.name, "img")
        XCTAssertEqual(data.sampleShape, [1, 2, 2])
        XCTAssertEqual(data.classCount, 5)
        XCTAssertEqual(data.sampleFeatures(1), [5, 6, 7, 8])
    }

    // MARK: Errors

    func testRowWithTheWrongNumberOfFieldsNamesFileAndLine() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "bad.csv", "a,b,label\n1,2,0\n\n3,1\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(path) }?.description,
                       "\(path):4: found 2 fields, expected 3 as in line 1")
    }

    func testAClassIndexFarPastTheRowsIsRefusedBeforeAnythingIsSized() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "ids.csv", "x,label\n0.5,0\n0.2,2147483647\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(path) }?.description,
                       "\(path): label 2147483647 would make 2147483648 classes for 2 rows; class indices must be below 65536 (the rows, or 65536)")
        let few = try writeFile(dir, "few.csv", "x,label\n0.5,0\n0.2,999\n")
        XCTAssertEqual(try CSVDataset.load(few).classCount, 1000)
    }

    func testNonNumericFeatureNamesFieldAndLine() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "bad.csv", "1,2,0\n3,x4,1\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(path) }?.description,
                       "\(path):2: field 2 'x4' is not a finite number")
        let special = try writeFile(dir, "nan.csv", "1,2,0\nnan,4,1\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(special) }?.description,
                       "\(special):2: field 1 'nan' is not a finite number")
    }

    func testBadLabelsAreRejected() throws {
        let dir = try makeTemporaryDirectory(self)
        let fractional = try writeFile(dir, "f.csv", "1,2,0\n3,4,1.5\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(fractional) }?.description,
                       "\(fractional):2: label '1.5' in column 3 is not a non-negative integer class index (for text labels read the file with class names)")
        let negative = try writeFile(dir, "n.csv", "1,2,-1\n")
        XCTAssertNotNil(datasetError { try CSVDataset.load(negative) })
        let tooMany = try writeFile(dir, "m.csv", "1,2,4\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(tooMany, options: .init(classCount: 3)) }?.description,
                       "\(tooMany): labels need 5 classes but the class count is 3")
    }

    func testEmptyHeaderOnlyAndMissingFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        let empty = try writeFile(dir, "empty.csv", "\n\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(empty) }?.description, "\(empty): holds no samples")
        let headerOnly = try writeFile(dir, "header.csv", "a,b,label\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(headerOnly) }, .empty(path: headerOnly))
        XCTAssertEqual(datasetError { try CSVDataset.load(dir + "/absent.csv") }?.description,
                       "\(dir)/absent.csv: no such file or directory")
        let oneColumn = try writeFile(dir, "one.csv", "1\n2\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(oneColumn) }?.description,
                       "\(oneColumn):1: found 1 column; need at least one feature and a label")
    }

    func testMissingNamedLabelColumn() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = try writeFile(dir, "c.csv", "a,b,c\n1,2,3\n")
        XCTAssertEqual(datasetError { try CSVDataset.load(path, options: .init(labelColumn: .named("label"))) }?.description,
                       "\(path):1: no column named 'label' in the header (a, b, c)")
    }

    func testCSVPathThroughTheCatalogIsSplitThreeToOne() throws {
        let dir = try makeTemporaryDirectory(self)
        let rows = (0 ..< 40).map { "\($0),\($0 * 2),\($0 % 2)" }.joined(separator: "\n")
        try writeFile(dir, "pairs.csv", "x,y,label\n" + rows + "\n")
        let (train, test) = try DatasetCatalog.load(name: "pairs.csv", dataDirectory: dir)
        XCTAssertEqual(train.count, 30)
        XCTAssertEqual(test.count, 10)
        XCTAssertEqual(test.classCounts, [5, 5])
        XCTAssertEqual(train.name, "pairs/train")
        XCTAssertEqual(Set((0 ..< 30).map { train.sampleFeatures($0)[0] } + (0 ..< 10).map { test.sampleFeatures($0)[0] }).count, 40)
    }
}
