import Foundation

/// The resource levels of one successive-halving bracket.
///
/// With minimum resource r, maximum R, reduction factor eta and early-stopping rate
/// s, the rungs are k = 0 ... floor(log_eta(R/r)) - s and rung k trains to
/// r * eta^(k+s) (Li et al. 2020, Algorithm 2). When R/r is not a power of eta the
/// top rung stays below R, exactly as the algorithm states.
public struct RungLadder: Equatable, Sendable {
    public var minResource: Double
    public var maxResource: Double
    public var eta: Int
    public var earlyStoppingRate: Int

    public init(minResource: Double, maxResource: Double, eta: Int, earlyStoppingRate: Int = 0) {
        self.minResource = minResource
        self.maxResource = maxResource
        self.eta = eta
        self.earlyStoppingRate = earlyStoppingRate
    }

    /// The most rungs a ladder may have: a bracket of 40 rungs would start eta^40
    /// configurations, far past any budget, and past Int at eta >= 3.
    public static let maxRungs = 40

    /// floor(log_eta(R/r)), computed by multiplying so that R/r = eta^k exactly is not
    /// lost to rounding.
    public static func maxRate(minResource r: Double, maxResource R: Double, eta: Int) -> Int {
        guard r > 0, R >= r, eta >= 2 else { return 0 }
        var k = 0
        var level = r
        while level * Double(eta) <= R * (1 + 1e-12) {
            level *= Double(eta)
            k += 1
        }
        return k
    }

    /// floor(log_eta(R/r)).
    public var maxRate: Int { Self.maxRate(minResource: minResource, maxResource: maxResource, eta: eta) }

    /// The number of rungs, floor(log_eta(R/r)) - s + 1.
    public var rungCount: Int { Swift.max(0, maxRate - earlyStoppingRate + 1) }

    /// The resource rung k trains to: r * eta^(k+s).
    public func resource(rung k: Int) -> Double {
        var level = minResource
        for _ in 0..<(k + earlyStoppingRate) { level *= Double(eta) }
        return level
    }

    public var resources: [Double] { (0..<rungCount).map(resource(rung:)) }
}
