import XCTest
import CohortFiles
@testable import CohortPipelines

final class CachePolicyTests: XCTestCase {
    func testPoliciesChooseTheirVictims() {
        let entries = [
            CachePolicy.Entry(key: "a", bytes: 100, cost: 10, hits: 5, lastUse: 1),
            CachePolicy.Entry(key: "b", bytes: 100, cost: 1, hits: 0, lastUse: 3),
            CachePolicy.Entry(key: "c", bytes: 400, cost: 8, hits: 1, lastUse: 2),
        ]
        XCTAssertEqual(CachePolicy.lru.victim(among: entries)?.key, "a")
        XCTAssertEqual(CachePolicy.lfu.victim(among: entries)?.key, "b")
        // value = cost x (hits + 1) / bytes: a 0.6, b 0.01, c 0.04.
        XCTAssertEqual(CachePolicy.cost.victim(among: entries)?.key, "b")
    }

    func testEvictionsMakeRoomOrRefuseWhatCannotFit() {
        let entries = [
            CachePolicy.Entry(key: "a", bytes: 60, cost: 1, lastUse: 1),
            CachePolicy.Entry(key: "b", bytes: 30, cost: 1, lastUse: 2),
        ]
        XCTAssertEqual(CachePolicy.lru.evictions(from: entries, toFit: 20, capacity: 100)?.map(\.key), ["a"])
        XCTAssertEqual(CachePolicy.lru.evictions(from: entries, toFit: 10, capacity: 100)?.map(\.key), [])
        XCTAssertEqual(CachePolicy.lru.evictions(from: entries, toFit: 90, capacity: 100)?.map(\.key), ["a", "b"])
        XCTAssertNil(CachePolicy.lru.evictions(from: entries, toFit: 101, capacity: 100))
    }

    func testByteSizesAndTheirErrors() throws {
        func parse(_ v: JSONValue) -> Int? { if case let .success(n) = ByteSize.parse(v) { return n } else { return nil } }
        XCTAssertEqual(parse(.string("512MB")), 512_000_000)
        XCTAssertEqual(parse(.string("1.5 GiB")), 1_610_612_736)
        XCTAssertEqual(parse(.string("800k")), 800_000)
        XCTAssertEqual(parse(.int(4096)), 4096)
        XCTAssertEqual(parse(.string("0")), 0)
        for bad: JSONValue in [.string("lots"), .string("12 parsecs"), .string("-5MB"), .int(-1), .string("1e30"), .bool(true), .string("")] {
            guard case let .failure(problem) = ByteSize.parse(bad) else { XCTFail("\(bad) parsed"); continue }
            XCTAssertTrue(problem.message.contains("size") || problem.message.contains("1PB"), problem.message)
        }
    }
}
