import Foundation
import XCTest
import CohortData
@testable import CohortXD

/// The data the comparisons make: Burgers' solutions against what the equation implies,
/// and permuted images against the bit-reversal they promise.
final class TaskDataTests: XCTestCase {
    private func equation(grid: Int, time: Double) -> BurgersEquation {
        var e = BurgersEquation()
        e.grid = grid
        e.resolution = grid
        e.time = time
        e.viscosity = 0.1
        return e
    }

    func testSmallAmplitudeDecaysAsTheHeatEquation() throws {
        // At amplitude 1e-3 advection is a 1e-3 relative effect: sin(2πx) decays by e^{-ν(2π)²t}.
        let e = equation(grid: 64, time: 0.1)
        let u0 = (0..<64).map { Float(1e-3 * sin(2 * Double.pi * Double($0) / 64)) }
        let u = try e.solve([u0])[0]
        let decay = Float(exp(-e.viscosity * 4 * Double.pi * Double.pi * e.time))
        for j in 0..<64 { XCTAssertEqual(u[j], decay * u0[j], accuracy: 2e-6) }
    }

    func testSolutionsConserveTheMeanObeyTheMaximumPrincipleAndConverge() throws {
        let coarse = equation(grid: 128, time: 0.2), fine = equation(grid: 256, time: 0.2)
        let u0Fine = try fine.initialCondition(seed: 5, index: 0)
        let uFine = try fine.solve([u0Fine])[0]
        let u0Coarse = (0..<128).map { u0Fine[2 * $0] }
        let uCoarse = try coarse.solve([u0Coarse])[0]
        XCTAssertEqual(uFine.reduce(0, +) / 256, 0, accuracy: 1e-5, "the mean of u is conserved")
        XCTAssertLessThanOrEqual(uFine.map(abs).max()!, u0Fine.map(abs).max()!, "no new extrema")
        XCTAssertGreaterThan(zip(uFine, u0Fine).map { abs($0 - $1) }.max()!, 0.05, "the field moved")
        // Smooth solutions: the coarse grid reproduces the fine one at its points.
        let gap = (0..<128).map { abs(uCoarse[$0] - uFine[2 * $0]) }.max()!
        XCTAssertLessThan(gap, 1e-4)
    }

    func testPairsAreAFunctionOfSeedAndIndexWhateverTheCount() throws {
        var e = BurgersEquation()
        e.grid = 64
        e.resolution = 16
        e.time = 0.05
        let three = try e.pairs(count: 3, seed: 7, name: "b")
        let two = try e.pairs(count: 2, seed: 7, name: "b")
        XCTAssertEqual(three.inputShape, [2, 16])
        XCTAssertEqual(three.targetShape, [1, 16])
        XCTAssertEqual(Array(three.inputs[0..<64]), two.inputs)
        XCTAssertEqual(Array(three.targets[0..<32]), two.targets)
        XCTAssertEqual(three.inputs[16 + 4], 0.25, "channel 1 is the grid")
        XCTAssertNotEqual(try e.pairs(count: 2, seed: 8, name: "b").inputs, two.inputs)
        let later = try e.pairs(count: 1, seed: 7, firstIndex: 2, name: "b")
        XCTAssertEqual(later.targets, Array(three.targets[32..<48]), "sample i is drawn from (seed, i)")
    }

    func testBadBurgersSettingsAreRefused() {
        var e = BurgersEquation()
        e.resolution = 384
        XCTAssertThrowsError(try e.validate()) { XCTAssertEqual("\($0)", "burgers.resolution must be a power of two dividing burgers.grid (1024), got 384") }
        e = BurgersEquation()
        e.grid = 1000
        XCTAssertThrowsError(try e.validate()) { XCTAssertEqual("\($0)", "burgers.grid must be a power of two in 8...65536, got 1000") }
        e = BurgersEquation()
        e.amplitudeBound = 0.01
        e.grid = 64
        e.resolution = 64
        XCTAssertThrowsError(try e.pairs(count: 1, seed: 1, name: "b")) { XCTAssertTrue("\($0)".contains("above amplitude_bound 0.01")) }
    }

    func testPermutedImagesPadAndBitReverseRowsAndColumns() throws {
        let pixels = (0..<16).map(Float.init)
        let data = try Dataset(name: "tiny", sampleShape: [1, 4, 4], features: pixels, labels: [1], classCount: 2)
        let padded = try PermutedImages.make(data, side: 8, permute: false)
        XCTAssertEqual(padded.sampleShape, [1, 8, 8])
        XCTAssertEqual(padded.features[2 * 8 + 2], 0, "pixel (0, 0) moves to (2, 2)")
        XCTAssertEqual(padded.features[3 * 8 + 4], 6, "pixel (1, 2) moves to (3, 4)")
        let permuted = try PermutedImages.make(data, side: 8, permute: true)
        // Row 3 -> rev3(3) = 6, column 4 -> rev3(4) = 1.
        XCTAssertEqual(permuted.features[6 * 8 + 1], 6)
        XCTAssertEqual(permuted.features.sorted(), padded.features.sorted(), "a permutation keeps every pixel")
        XCTAssertThrowsError(try PermutedImages.make(data, side: 2, permute: true)) {
            XCTAssertEqual("\($0)", "tiny: images of 4x4 do not fit 2x2")
        }
    }
}

extension TaskDataTests {
    func testTheDefaultStepCountAgreesWithFourTimesFinerSteps() throws {
        var e = BurgersEquation()
        e.grid = 256
        e.resolution = 256
        e.time = 0.25
        let u0 = try e.initialCondition(seed: 3, index: 1)
        let coarse = try e.solve([u0])[0]
        var fine = e
        fine.amplitudeBound *= 4   // four times the steps (the stability rule is then met too)
        XCTAssertGreaterThanOrEqual(fine.steps, 4 * e.steps - 4)
        let reference = try fine.solve([u0])[0]
        let norm = reference.map { $0 * $0 }.reduce(0, +).squareRoot()
        let error = zip(coarse, reference).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        XCTAssertLessThan(error / norm, 1e-4)
    }
}
