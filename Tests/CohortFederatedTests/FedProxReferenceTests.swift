import CohortFiles
import CohortTensor
import XCTest
@testable import CohortFederated

/// FedProx's reference code where it differs from the defaults: stragglers' partial work
/// drawn from 1 ... E-1, and the logistic model started Glorot-uniform.
final class FedProxReferenceTests: XCTestCase {
    func testPartialWorkBelowEDrawsOneToEMinusOne() throws {
        let sampler = try ClientSampler(sampling: .init(clientsPerRound: 10, dropRate: 0.5, stragglers: .partialWork,
                                                        partialWorkEpochs: .belowE),
                                        population: 30, seed: 1)
        var seen = Set<Int>()
        for round in 0 ..< 200 {
            let r = sampler.participants(round: round)
            for c in r.selected {
                let e = sampler.localEpochs(round: round, client: c, epochs: 20, participants: r)
                if r.stragglers.contains(c) { seen.insert(e) } else { XCTAssertEqual(e, 20, "active clients run E") }
            }
        }
        XCTAssertEqual(seen, Set(1 ... 19), "uniform over 1 ... E-1, never E")
        // E = 1 and E = 2 leave one choice: a single epoch.
        let r = sampler.participants(round: 0)
        let straggler = try XCTUnwrap(r.stragglers.first)
        XCTAssertEqual(sampler.localEpochs(round: 0, client: straggler, epochs: 1, participants: r), 1)
        XCTAssertEqual(sampler.localEpochs(round: 0, client: straggler, epochs: 2, participants: r), 1)
    }

    func testConfigNamesThePartialWorkRange() throws {
        let base = """
        rounds: 2
        data: {source: synthetic, alpha: 1, beta: 1}
        model: {type: logistic}
        local: {learning_rate: 0.01, epochs: 20, batch_size: 10}
        """
        let config = try FedConfig.parse(base + "\nsampling: {clients_per_round: 10, drop_rate: 0.5, stragglers: partial_work, partial_work_epochs: below_e}")
        XCTAssertEqual(config.base.sampling.partialWorkEpochs, .belowE)
        XCTAssertEqual(try FedConfig.parse(base + "\nsampling: {clients_per_round: 10}").base.sampling.partialWorkEpochs, .upToE)
        XCTAssertThrowsError(try FedConfig.parse(base + "\nsampling: {clients_per_round: 10, partial_work_epochs: below_e}")) { e in
            XCTAssertEqual("\(e)", "sampling.partial_work_epochs: applies only with stragglers: partial_work")
        }
    }

    func testLogisticStartsAtZeroOrGlorotUniform() throws {
        func parameters(_ fields: [(String, JSONValue)]) throws -> [Float] {
            let factory = try FederatedModelCatalog.standard.factory(for: FederatedModelSpec(type: "logistic", fields: fields))
            let model = try factory.makeModel(sampleShape: [60], classCount: 10)
            model.initializeParameters(RandomStream(seed: 5, stream: [1]))
            return Array(model.parameters)
        }
        XCTAssertEqual(try parameters([("type", .string("logistic"))]), [Float](repeating: 0, count: 610))
        let glorot = try parameters([("type", .string("logistic")), ("init", .string("glorot"))])
        XCTAssertEqual(glorot.count, 610)
        let weights = glorot[0 ..< 600], biases = glorot[600...]
        let bound = Float((6.0 / 70.0).squareRoot())
        XCTAssertTrue(weights.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(weights.map { abs($0) }.max()!, 0.9 * bound, "spread over the whole Glorot range")
        XCTAssertTrue(biases.allSatisfy { $0 == 0 })
        XCTAssertThrowsError(try parameters([("type", .string("logistic")), ("init", .string("normal"))])) { e in
            XCTAssertEqual("\(e)", "model.init: unknown value 'normal' (expected one of zero, glorot)")
        }
    }
}
