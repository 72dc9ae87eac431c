import XCTest
@testable import CohortData

final class CohortDataSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
