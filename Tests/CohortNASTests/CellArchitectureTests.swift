import CohortFiles
import CohortTensor
import CohortTune
import XCTest
@testable import CohortNAS

/// The search space: string and JSON forms, validation messages, connectivity.
final class CellArchitectureTests: XCTestCase {
    let residual = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"

    func testStringRoundTripAndEdgeOrder() throws {
        let cell = try CellArchitecture(parsing: residual)
        XCTAssertEqual(cell.operations, [.convolution3x3, .none, .convolution3x3, .skipConnect, .none, .skipConnect])
        XCTAssertEqual(cell.nasBench201String, residual)
        XCTAssertEqual(cell.operation(from: 1, to: 2), .convolution3x3)
        XCTAssertEqual(cell.operation(from: 0, to: 3), .skipConnect)
        // Inputs may be listed in any order; printing puts them back in order.
        let shuffled = try CellArchitecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~1|none~0|+|skip_connect~2|skip_connect~0|none~1|")
        XCTAssertEqual(shuffled, cell)
    }

    func testIndexIsABijection() {
        var seen = Set<Int>()
        for i in stride(from: 0, to: CellArchitecture.spaceSize, by: 7) {
            let cell = CellArchitecture(index: i)
            XCTAssertEqual(cell.index, i)
            seen.insert(cell.hashValue)
        }
        XCTAssertEqual(CellArchitecture(index: 0).operations, Array(repeating: .none, count: 6))
        XCTAssertEqual(CellArchitecture(index: 3).operations, [.convolution3x3, .none, .none, .none, .none, .none])
        XCTAssertEqual(CellArchitecture(index: 5 * 5 * 5).operations, [.none, .none, .none, .skipConnect, .none, .none])
    }

    func testConnectedCellCount() {
        // Counted independently: 15,625 cells, 341 of which have no path from input to output.
        XCTAssertEqual(CellArchitecture.all.filter(\.isConnected).count, 15_284)
    }

    func testCanonicalFormDropsDeadEdges() throws {
        let cell = try CellArchitecture(parsing: "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|none~2|")
        XCTAssertEqual(cell.canonical.nasBench201String, "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
        XCTAssertEqual(cell.canonical.canonical, cell.canonical)
        let full = try CellArchitecture(parsing: residual)
        XCTAssertEqual(full.canonical, full)
        // Counted independently: 9,444 different functions among the 15,284 connected cells.
        XCTAssertEqual(CellArchitecture.distinctConnectedCount, 9_444)
    }

    func testLiveEdges() throws {
        // 0->1 feeds node 1, which feeds nothing on the way to the output.
        let cell = try CellArchitecture(parsing: "|nor_conv_3x3~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|")
        XCTAssertEqual(cell.liveEdges, [3])
        XCTAssertEqual(try CellArchitecture(parsing: residual).liveEdges, [0, 2, 3, 5])
        // Node 2 feeds nothing once 2->3 is `none`: only the skip from the input is live.
        XCTAssertEqual(try CellArchitecture(parsing: "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|").liveEdges, [3])
        let full = CellArchitecture(Array(repeating: .convolution1x1, count: 6))
        XCTAssertEqual(full.liveEdges, [0, 1, 2, 3, 4, 5])
    }

    func testUnknownOperationMessage() {
        XCTAssertThrowsError(try CellArchitecture(parsing: "|conv_5x5~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")) { error in
            XCTAssertEqual("\(error)", "unknown operation 'conv_5x5' (expected one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)")
        }
    }

    func testUnparsableStringMessages() {
        let cases: [(String, String)] = [
            ("nor_conv_3x3", "found 1 node group separated by '+', need 3"),
            ("|skip_connect~0|+|skip_connect~0|+|skip_connect~0|", "node 2 must list 2 inputs (one per earlier node), found 1"),
            ("|skip_connect~0|+|skip_connect~0|skip_connect~0|+|skip_connect~0|none~1|none~2|", "node 2 lists input 0 twice"),
            ("|skip_connect~0|+|skip_connect~0|skip_connect~3|+|skip_connect~0|none~1|none~2|", "node 2 cannot take input from node 3"),
            ("|skip_connect|+|skip_connect~0|none~1|+|skip_connect~0|none~1|none~2|", "'skip_connect' in node 1 is not of the form op~input"),
            ("skip_connect~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|none~2|", "node 1's group 'skip_connect~0|' must start and end with '|'"),
        ]
        for (text, why) in cases {
            XCTAssertThrowsError(try CellArchitecture(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(why), "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("architecture string '\(text)' does not parse:"), "\(error)")
            }
        }
    }

    func testNoPathMessage() {
        let text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|"
        XCTAssertThrowsError(try CellArchitecture(parsing: text)) { error in
            XCTAssertEqual("\(error)", "architecture \(text) has no path from the cell input (node 0) to its output (node 3): every path crosses a 'none' edge")
        }
        XCTAssertFalse(try CellArchitecture(parsing: text, requireConnected: false).isConnected)
    }

    func testJSONRoundTripAndDisagreement() throws {
        let cell = try CellArchitecture(parsing: residual)
        let json = cell.json
        XCTAssertEqual(json.description,
                       #"{"nasbench201":"\#(residual)","nodes":[["nor_conv_3x3"],["none","nor_conv_3x3"],["skip_connect","none","skip_connect"]]}"#)
        XCTAssertEqual(try CellArchitecture(json: try JSONValue.parse(json.description)), cell)
        XCTAssertEqual(try CellArchitecture(argument: json.description), cell)
        XCTAssertEqual(try CellArchitecture(argument: " \(residual) "), cell)
        let nodesOnly = #"{"nodes":[["nor_conv_3x3"],["none","nor_conv_3x3"],["skip_connect","none","skip_connect"]]}"#
        XCTAssertEqual(try CellArchitecture(argument: nodesOnly), cell)
        let disagree = #"{"nasbench201":"|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|","nodes":[["nor_conv_3x3"],["none","nor_conv_3x3"],["skip_connect","none","none"]]}"#
        XCTAssertThrowsError(try CellArchitecture(argument: disagree)) { XCTAssertTrue("\($0)".contains("describe different cells"), "\($0)") }
        XCTAssertThrowsError(try CellArchitecture(argument: #"{"nodes":[["conv"],["none","none"],["none","none","none"]]}"#)) {
            XCTAssertTrue("\($0)".hasPrefix("unknown operation 'conv'"), "\($0)")
        }
        XCTAssertThrowsError(try CellArchitecture(argument: "resnet")) {
            XCTAssertTrue("\($0)".contains("is neither a NAS-Bench-201 string"), "\($0)")
        }
    }

    func testRandomConnectedIsSeededAndCoversTheSpace() {
        var a = RandomStream(seed: 3, stream: [1]), b = RandomStream(seed: 3, stream: [1])
        let first = (0..<200).map { _ in CellArchitecture.randomConnected(&a) }
        let second = (0..<200).map { _ in CellArchitecture.randomConnected(&b) }
        XCTAssertEqual(first, second)
        XCTAssertTrue(first.allSatisfy(\.isConnected))
        // Every operation shows up on every edge.
        for e in 0..<6 { XCTAssertEqual(Set(first.map { $0.operations[e] }).count, 5, "edge \(e)") }
    }
}
