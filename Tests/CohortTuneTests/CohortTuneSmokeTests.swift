import XCTest
@testable import CohortTune

final class CohortTuneSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
