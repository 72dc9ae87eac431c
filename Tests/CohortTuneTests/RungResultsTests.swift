import XCTest
import CohortTensor
@testable import CohortTune

/// The blocked rung storage against a plain sorted array.
final class RungResultsTests: XCTestCase {
    func testBlockedRungsKeepTheOrderOfASortedArrayThroughInsertsPromotionsAndRemovals() {
        for mode in MetricMode.allCases {
            var rung = RungResults(mode: mode)
            var plain: [RungRecord] = []
            var rng = RandomStream(seed: 9, stream: [mode == .min ? 1 : 2])
            for t in 0..<3000 {
                // Coarse metrics make many ties (broken by trial id); a few failures rank last.
                let r = RungRecord(trial: t, metric: rng.uniformDouble() < 0.05 ? nil : (rng.uniformDouble() * 50).rounded())
                rung.insert(r)
                let at = plain.firstIndex { rung.ranksAhead(r, of: $0) } ?? plain.count
                plain.insert(r, at: at)
                XCTAssertEqual(rung.rank(of: r), at)
                if t % 7 == 0 {
                    let i = rng.index(below: plain.count)
                    rung.setPromoted(at: i)
                    plain[i].promoted = true
                }
                if t % 11 == 0 {
                    let i = rng.index(below: plain.count)
                    rung.remove(at: i)
                    plain.remove(at: i)
                }
            }
            XCTAssertEqual(rung.count, plain.count)
            XCTAssertEqual(Array(rung), plain)
            XCTAssertEqual(rung.first, plain.first)
            XCTAssertEqual(Array(rung.prefix(5)), Array(plain.prefix(5)))
            XCTAssertEqual(rung[1234], plain[1234])
        }
    }

    func testBracketsWithManyTrialsPromoteExactlyAsAlgorithmTwoSays() {
        // The candidate is the best unpromoted successful result among the top floor(n/eta),
        // checked against the definition on a plain list after every step.
        var bracket = BracketState(ladder: RungLadder(minResource: 1, maxResource: 9, eta: 3), mode: .min)
        var rng = RandomStream(seed: 4, stream: [7])
        for t in 0..<2000 {
            bracket.add(RungRecord(trial: t, metric: rng.uniformDouble() < 0.1 ? nil : rng.uniformDouble()), rung: 0)
            let rung = Array(bracket.rungs[0])
            let expected = rung.prefix(rung.count / 3).first { !$0.promoted && $0.metric != nil }
            XCTAssertEqual(bracket.ashaCandidate(rung: 0), expected)
            if let c = expected, rng.uniformDouble() < 0.6 {
                bracket.markPromoted(trial: c.trial, rung: 0)
                XCTAssertEqual(bracket.record(trial: c.trial, rung: 0)?.promoted, true)
            }
        }
    }
}
