import XCTest
@testable import CohortCluster

final class CohortClusterSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
