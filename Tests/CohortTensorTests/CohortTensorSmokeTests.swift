import XCTest
@testable import CohortTensor

final class CohortTensorSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
