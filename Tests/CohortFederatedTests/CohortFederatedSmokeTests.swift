import XCTest
@testable import CohortFederated

final class CohortFederatedSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
