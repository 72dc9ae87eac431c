import CohortData
import Foundation
import XCTest
@testable import CohortFederated

final class SyntheticFedProxTests: XCTestCase {
    func testPublishedShapeCountsAndSplit() throws {
        let spec = SyntheticFedProx(alpha: 1, beta: 1)
        let users = try spec.generateUsers(seed: 7)
        let federation = try spec.generate(seed: 7)
        XCTAssertEqual(federation.name, "synthetic(1,1)")
        XCTAssertEqual(federation.clients.count, 30)
        XCTAssertEqual(federation.sampleShape, [60])
        XCTAssertEqual(federation.classCount, 10)
        XCTAssertEqual(federation.clients[0].id, "f_00000")
        XCTAssertEqual(federation.clients[29].id, "f_00029")
        for (user, client) in zip(users, federation.clients) {
            XCTAssertGreaterThanOrEqual(user.count, 50, "int(lognormal) + 50")
            XCTAssertEqual(client.train.count, Int(0.9 * Double(user.count)), "int(0.9 n) train")
            XCTAssertEqual(client.train.count + client.test.count, user.count)
            XCTAssertEqual(client.validation.count, 0)
            XCTAssertEqual(client.sampleCount, client.train.count)
        }
        // The split is a permutation: train and test together hold exactly the user's samples.
        let user = users[3], client = federation.clients[3]
        let original = Set((0 ..< user.count).map { i in (0 ..< 60).map { Float(user.features[i * 60 + $0]) } })
        let split = Set((0 ..< client.train.count).map { client.train.sampleFeatures($0) }
                        + (0 ..< client.test.count).map { client.test.sampleFeatures($0) })
        XCTAssertEqual(original, split)
    }

    func testSampleCountsFollowLogNormalFourTwo() throws {
        // Over many seeds, log(n - 50) should look like N(4, 2) floored: mean slightly under 4.
        var logs: [Double] = []
        for seed in 0 ..< 40 {
            let users = try SyntheticFedProx(alpha: 0, beta: 0, dimension: 2, classes: 2).generateUsers(seed: UInt64(seed))
            logs += users.map { log(Double($0.count - 50) + 0.5) }
        }
        let (mean, variance) = moments(logs)
        XCTAssertEqual(mean, 4, accuracy: 0.25)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.25)
    }

    func testFeatureCovarianceIsDiagonalPowerMinusOnePointTwo() throws {
        // Within one user x ~ N(v_k, diag(j^-1.2)): pool per-user-centred values.
        let users = try SyntheticFedProx(alpha: 1, beta: 1).generateUsers(seed: 3)
        for j in [0, 9, 59] {
            var centred: [Double] = []
            for user in users {
                let column = (0 ..< user.count).map { user.features[$0 * 60 + j] }
                let m = column.reduce(0, +) / Double(column.count)
                centred += column.map { $0 - m }
            }
            let variance = centred.reduce(0) { $0 + $1 * $1 } / Double(centred.count)
            XCTAssertEqual(variance, pow(Double(j + 1), -1.2), accuracy: 0.08 * pow(Double(j + 1), -1.2), "dimension \(j + 1)")
        }
    }

    func testBetaSpreadsUserFeatureMeansAndIIDCentresThemAtZero() throws {
        // Non-IID: user means v_kj ~ N(B_k, 1), so they spread with variance >= 1.
        // IID: every user has mean 0.
        func spreadOfUserMeans(_ spec: SyntheticFedProx) throws -> Double {
            let users = try spec.generateUsers(seed: 12)
            let means = users.map { user in (0 ..< user.count).map { user.features[$0 * 60] }.reduce(0, +) / Double(user.count) }
            return moments(means).variance
        }
        XCTAssertGreaterThan(try spreadOfUserMeans(SyntheticFedProx(alpha: 1, beta: 1)), 0.5)
        XCTAssertLessThan(try spreadOfUserMeans(SyntheticFedProx(alpha: 1, beta: 1, iid: true)), 0.05)
    }

    func testLabelsAreTheArgmaxOfEachUsersOwnModel() throws {
        let spec = SyntheticFedProx(alpha: 1, beta: 1)
        let users = try spec.generateUsersWithModels(seed: 5)
        for (model, samples) in users.prefix(5) {
            for i in 0 ..< samples.count {
                var logits = model.bias
                for j in 0 ..< 60 {
                    for c in 0 ..< 10 { logits[c] += samples.features[i * 60 + j] * model.weights[j * 10 + c] }
                }
                XCTAssertEqual(Int(samples.labels[i]), logits.indices.max { logits[$0] < logits[$1] }!)
            }
        }
        // W_k ~ N(u_k, 1): within a user the 600 weights spread with variance about 1, and
        // their means differ across users (u_k ~ N(0, alpha = 1)).
        let means = users.map { moments($0.model.weights).mean }
        for user in users { XCTAssertEqual(moments(user.model.weights).variance, 1, accuracy: 0.2) }
        XCTAssertGreaterThan(moments(means).variance, 0.3)
        // With alpha = 0 every u_k is 0.
        let flat = try SyntheticFedProx(alpha: 0, beta: 1).generateUsersWithModels(seed: 5)
        XCTAssertLessThan(moments(flat.map { moments($0.model.weights).mean }).variance, 0.01)
    }

    func testIIDUsersShareOneModelAndAZeroFeatureMean() throws {
        let users = try SyntheticFedProx(alpha: 1, beta: 1, iid: true).generateUsersWithModels(seed: 5)
        for user in users {
            XCTAssertEqual(user.model, users[0].model)
            XCTAssertEqual(user.model.featureMean, [Double](repeating: 0, count: 60))
        }
        XCTAssertEqual(moments(users[0].model.weights).mean, 0, accuracy: 0.15, "W ~ N(0, 1)")
        XCTAssertEqual(try SyntheticFedProx(alpha: 0, beta: 0, iid: true).generate(seed: 1).name, "synthetic-iid")
    }

    func testSameSeedSameDataOtherSeedOtherData() throws {
        let spec = SyntheticFedProx(alpha: 0.5, beta: 0.5)
        XCTAssertEqual(try spec.generate(seed: 42), try spec.generate(seed: 42))
        XCTAssertNotEqual(try spec.generate(seed: 42).clients[0].train, try spec.generate(seed: 43).clients[0].train)
        XCTAssertEqual(spec.name, "synthetic(0.5,0.5)")
    }

    func testLabelsUseSeveralClassesAndStayInRange() throws {
        let federation = try SyntheticFedProx(alpha: 1, beta: 1).generate(seed: 1)
        var seen = Set<Int32>()
        for client in federation.clients { seen.formUnion(client.train.labels) }
        XCTAssertGreaterThan(seen.count, 3)
        XCTAssertTrue(seen.allSatisfy { $0 >= 0 && $0 < 10 })
    }

    func testNegativeParametersAreRejectedWithOneLine() {
        assertFederatedError("data.alpha: must be zero or positive, got -1.0") {
            try SyntheticFedProx(alpha: -1, beta: 1).generate(seed: 0)
        }
        assertFederatedError("data.beta") { try SyntheticFedProx(alpha: 1, beta: .nan).generate(seed: 0) }
        assertFederatedError("data.classes: must be at least 2") {
            try SyntheticFedProx(alpha: 1, beta: 1, classes: 1).generate(seed: 0)
        }
    }
}
