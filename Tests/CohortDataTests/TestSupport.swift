import Foundation
import XCTest
import CohortData

/// A fresh directory under the system temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "cohort-data-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Writes `text` to `directory/name` and returns the path.
@discardableResult
func writeFile(_ directory: String, _ name: String, _ text: String) throws -> String {
    let path = directory + "/" + name
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

/// Writes raw bytes to `directory/name` and returns the path.
@discardableResult
func writeFile(_ directory: String, _ name: String, bytes: [UInt8]) throws -> String {
    let path = directory + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// A dataset whose sample `i` has features `[i, 10 i, 100 i]` (shape `[3]`) and label
/// `labels[i]`, so any copy can be traced back to its source sample.
func tracedDataset(labels: [Int32], classCount: Int) throws -> Dataset {
    let features = labels.indices.flatMap { i in [Float(i), Float(10 * i), Float(100 * i)] }
    return try Dataset(name: "traced", sampleShape: [3], features: features, labels: labels, classCount: classCount)
}

/// The error `body` throws, as a `DatasetError`, failing the test if it throws none or another kind.
func datasetError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> DatasetError? {
    do {
        _ = try body()
        XCTFail("expected a DatasetError, nothing was thrown", file: file, line: line)
        return nil
    } catch let error as DatasetError {
        return error
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
        return nil
    }
}
