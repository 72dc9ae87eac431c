import XCTest
import CohortData

final class GzipTests: XCTestCase {
    private let text = Array((0 ..< 5000).map { "line \($0) of some repetitive text\n" }.joined().utf8)

    func testRoundTripThroughCompressAndDecompress() throws {
        let packed = Gzip.compress(text)
        XCTAssertTrue(Gzip.isCompressed(packed))
        XCTAssertFalse(Gzip.isCompressed(text))
        XCTAssertLessThan(packed.count, text.count / 4)
        let unpacked = try packed.withUnsafeBytes { try Gzip.decompress($0, path: "memory") }
        XCTAssertEqual(unpacked, text)
    }

    func testConcatenatedMembersDecompressToTheConcatenation() throws {
        let packed = Gzip.compress(Array("first\n".utf8)) + Gzip.compress(Array("second\n".utf8))
        let unpacked = try packed.withUnsafeBytes { try Gzip.decompress($0, path: "memory") }
        XCTAssertEqual(String(decoding: unpacked, as: UTF8.self), "first\nsecond\n")
    }

    func testTruncatedStreamIsReportedWithItsName() throws {
        let packed = Gzip.compress(text)
        let cut = Array(packed.prefix(packed.count / 2))
        let error = datasetError { try cut.withUnsafeBytes { try Gzip.decompress($0, path: "/data/x.gz") } }
        guard case let .truncated(path, detail) = error else { return XCTFail("expected truncated, got \(String(describing: error))") }
        XCTAssertEqual(path, "/data/x.gz")
        XCTAssertTrue(detail.hasPrefix("the gzip stream ends early after"), detail)
        XCTAssertTrue(error!.description.hasPrefix("/data/x.gz: file is truncated: the gzip stream ends early"))
    }

    func testCorruptDeflateDataIsReported() throws {
        var packed = Gzip.compress(text)
        for i in 12 ..< 40 { packed[i] ^= 0xA5 }
        let error = datasetError { try packed.withUnsafeBytes { try Gzip.decompress($0, path: "bad.gz") } }
        guard case .corruptCompressedData(path: "bad.gz", _)? = error else {
            return XCTFail("expected corrupt data, got \(String(describing: error))")
        }
    }
}
