import XCTest
@testable import CohortFederated

final class ClientSamplerTests: XCTestCase {
    func testCountFractionAndBoth() throws {
        XCTAssertEqual(try ClientSampling(clientsPerRound: 10).perRound(population: 30), 10)
        XCTAssertEqual(try ClientSampling(fraction: 0.1).perRound(population: 100), 10, "max(1, floor(C K))")
        XCTAssertEqual(try ClientSampling(fraction: 0.01).perRound(population: 30), 1)
        XCTAssertEqual(try ClientSampling(clientsPerRound: 5, fraction: 0.2).perRound(population: 100), 20, "the larger")
        XCTAssertEqual(try ClientSampling(clientsPerRound: 30, fraction: 0.2).perRound(population: 100), 30)
    }

    func testImpossibleRequestsEndInOneLine() {
        assertFederatedError("sampling.clients_per_round: asks for 31 clients per round but there are only 30 training clients") {
            try ClientSampler(sampling: .init(clientsPerRound: 31), population: 30, seed: 0)
        }
        assertFederatedError("sampling.fraction: must be in (0, 1], got 1.5") {
            try ClientSampler(sampling: .init(fraction: 1.5), population: 30, seed: 0)
        }
        assertFederatedError("sampling: give clients_per_round, fraction, or both") {
            try ClientSampler(sampling: .init(), population: 30, seed: 0)
        }
        assertFederatedError("sampling.drop_rate: must be in [0, 1), got 1.0") {
            try ClientSampler(sampling: .init(clientsPerRound: 3, dropRate: 1), population: 30, seed: 0)
        }
    }

    func testRoundsAreSeededByRoundAloneAndCoverThePopulation() throws {
        let sampler = try ClientSampler(sampling: .init(clientsPerRound: 10), population: 30, seed: 4)
        let again = try ClientSampler(sampling: .init(clientsPerRound: 10), population: 30, seed: 4)
        var hits = [Int](repeating: 0, count: 30)
        for round in 0 ..< 3000 {
            let p = sampler.participants(round: round)
            XCTAssertEqual(p.selected.count, 10)
            XCTAssertEqual(Set(p.selected).count, 10)
            XCTAssertEqual(p.selected, p.selected.sorted())
            XCTAssertEqual(p.contributing, p.selected, "no stragglers")
            for c in p.selected { hits[c] += 1 }
        }
        for h in hits { XCTAssertEqual(Double(h) / 3000, 1.0 / 3, accuracy: 0.04) }
        XCTAssertEqual(sampler.participants(round: 17), again.participants(round: 17))
        XCTAssertNotEqual(sampler.participants(round: 17).selected, sampler.participants(round: 18).selected)
    }

    func testStragglersAsInFedProx() throws {
        // round(10 * (1 - 0.5)) = 5 active; round(10 * 0.75) = round(7.5) = 8 (half to even).
        let half = try ClientSampler(sampling: .init(clientsPerRound: 10, dropRate: 0.5), population: 30, seed: 1)
        XCTAssertEqual(half.stragglersPerRound, 5)
        let quarter = try ClientSampler(sampling: .init(clientsPerRound: 10, dropRate: 0.25), population: 30, seed: 1)
        XCTAssertEqual(quarter.stragglersPerRound, 2)
        let odd = try ClientSampler(sampling: .init(clientsPerRound: 5, dropRate: 0.5), population: 30, seed: 1)
        XCTAssertEqual(odd.stragglersPerRound, 3, "round(2.5) = 2 active")

        let p = half.participants(round: 3)
        XCTAssertEqual(p.stragglers.count, 5)
        XCTAssertTrue(Set(p.stragglers).isSubset(of: p.selected))
        XCTAssertEqual(p.contributing, p.selected.filter { !p.stragglers.contains($0) })
        for c in p.selected { XCTAssertEqual(half.localEpochs(round: 3, client: c, epochs: 20, participants: p), 20) }

        let partial = try ClientSampler(sampling: .init(clientsPerRound: 10, dropRate: 0.5, stragglers: .partialWork),
                                        population: 30, seed: 1)
        let q = partial.participants(round: 3)
        XCTAssertEqual(q.selected, p.selected, "the same clients as with dropping")
        XCTAssertEqual(q.stragglers, p.stragglers, "and the same stragglers")
        XCTAssertEqual(q.contributing, q.selected, "partial work still contributes")
        var seen = Set<Int>()
        for round in 0 ..< 200 {
            let r = partial.participants(round: round)
            for c in r.selected {
                let e = partial.localEpochs(round: round, client: c, epochs: 20, participants: r)
                if r.stragglers.contains(c) { XCTAssertTrue((1 ... 20).contains(e)); seen.insert(e) } else { XCTAssertEqual(e, 20) }
            }
        }
        XCTAssertEqual(seen, Set(1 ... 20), "uniform over 1 ... E")
    }

    func testAssignmentBalancesWorkDeterministically() {
        let sizes = [1: 100, 4: 10, 7: 60, 9: 50, 12: 40, 20: 5]
        let plan = RoundAssignment.assign(clients: [1, 4, 7, 9, 12, 20], work: { sizes[$0]! }, ranks: 3)
        // LPT: 100 -> r0, 60 -> r1, 50 -> r2, 40 -> r2 (50 < 60), 10 -> r1, 5 -> r1 (70 < 90 < 100).
        XCTAssertEqual(plan, [[1], [4, 7, 20], [9, 12]])
        XCTAssertEqual(RoundAssignment.assign(clients: [3, 1], work: { _ in 1 }, ranks: 5), [[1], [3], [], [], []])
    }
}
