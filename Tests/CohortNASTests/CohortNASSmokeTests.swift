import XCTest
@testable import CohortNAS

final class CohortNASSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
