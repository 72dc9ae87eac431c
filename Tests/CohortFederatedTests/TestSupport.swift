import CohortFiles
import CohortData
import Foundation
import XCTest
@testable import CohortFederated

/// The message of the `FederatedError` that `body` throws; fails the test if it throws
/// nothing or another kind of error.
func federatedErrorMessage<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected a FederatedError, nothing was thrown", file: file, line: line)
    } catch let error as FederatedError {
        return error.description
    } catch let error as ConfigError {
        return error.description
    } catch {
        XCTFail("expected a FederatedError or ConfigError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return ""
}

/// Asserts `body` throws a `FederatedError` whose one-line message contains `fragment`.
func assertFederatedError<T>(_ fragment: String, _ body: () throws -> T,
                             file: StaticString = #filePath, line: UInt = #line) {
    let message = federatedErrorMessage(body, file: file, line: line)
    XCTAssertTrue(message.contains(fragment), "message '\(message)' lacks '\(fragment)'", file: file, line: line)
    XCTAssertFalse(message.contains("\n"), "message spans several lines: \(message)", file: file, line: line)
}

/// A fresh directory under the system temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "cohort-federated-tests-" + UUID().uuidString
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

/// A data set of `labels.count` samples whose single feature is the sample's index, so
/// any subset can be traced back to its source samples.
func indexedDataset(labels: [Int32], classCount: Int) throws -> Dataset {
    try Dataset(name: "indexed", sampleShape: [1], features: labels.indices.map { Float($0) },
                labels: labels, classCount: classCount)
}

/// Mean and population variance.
func moments(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    return (mean, xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count))
}
