import Foundation

/// Maps data values to pixels along one axis, linearly or logarithmically, and
/// picks the tick values a reader expects (1, 2, 5 x 10^k; powers of ten on a log axis).
public struct Scale: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case linear, log }
    public var kind: Kind
    public var domain: (low: Double, high: Double)
    public var range: (low: Double, high: Double)

    public static func == (a: Scale, b: Scale) -> Bool {
        a.kind == b.kind && a.domain == b.domain && a.range == b.range
    }

    /// A scale over `values` (padded so that nothing sits on the frame); a log scale
    /// ignores values <= 0. An empty or single-valued domain is widened.
    public init(kind: Kind = .linear, covering values: [Double], range: (Double, Double), includeZero: Bool = false, pad: Double = 0.04) {
        self.kind = kind
        self.range = (range.0, range.1)
        var xs = values.filter(\.isFinite)
        if kind == .log { xs = xs.filter { $0 > 0 } }
        var lo = xs.min() ?? (kind == .log ? 1 : 0), hi = xs.max() ?? (kind == .log ? 10 : 1)
        if includeZero && kind == .linear { lo = Swift.min(lo, 0); hi = Swift.max(hi, 0) }
        if kind == .log {
            if hi <= lo { lo /= 2; hi *= 2 }
            let span = log10(hi) - log10(lo)
            lo = pow(10, log10(lo) - pad * span); hi = pow(10, log10(hi) + pad * span)
        } else {
            if hi <= lo { let d = Swift.max(abs(lo) * 0.1, 1e-9); lo -= d; hi += d }
            let span = hi - lo
            if !(includeZero && lo == 0) { lo -= pad * span }
            hi += pad * span
        }
        domain = (lo, hi)
    }

    public init(kind: Kind, domain: (Double, Double), range: (Double, Double)) {
        self.kind = kind
        self.domain = (domain.0, domain.1)
        self.range = (range.0, range.1)
    }

    /// The pixel of value `x`.
    public func callAsFunction(_ x: Double) -> Double {
        let t: Double
        switch kind {
        case .linear: t = (x - domain.low) / (domain.high - domain.low)
        case .log: t = (log10(Swift.max(x, 1e-300)) - log10(domain.low)) / (log10(domain.high) - log10(domain.low))
        }
        return range.low + t * (range.high - range.low)
    }

    /// About `count` tick values inside the domain.
    public func ticks(count: Int = 6) -> [Double] {
        switch kind {
        case .linear:
            let step = Self.niceStep((domain.high - domain.low) / Double(Swift.max(1, count)))
            // Multiples of the step, cleaned of binary noise (3 x 0.2 = 0.6, not 0.6000000000000001).
            var k = (domain.low / step).rounded(.up)
            var out: [Double] = []
            while k * step <= domain.high + step * 1e-9 {
                let t = k * step
                out.append(abs(t) < step * 1e-9 ? 0 : Double(String(format: "%.12g", t))!)
                k += 1
            }
            return out
        case .log:
            let lo = Int(floor(log10(domain.low))), hi = Int(ceil(log10(domain.high)))
            let low = domain.low * (1 - 1e-9), high = domain.high * (1 + 1e-9)
            var out: [Double] = []
            for k in lo...hi {
                let p: Double = pow(10, Double(k))
                if p >= low && p <= high { out.append(p) }
            }
            if out.count < 3 {
                // A narrow log axis: add 2x and 5x.
                out = []
                for k in lo...hi {
                    let p: Double = pow(10, Double(k))
                    for m in [1.0, 2.0, 5.0] where m * p >= low && m * p <= high { out.append(m * p) }
                }
            }
            return out
        }
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let p = pow(10, floor(log10(raw)))
        let f = raw / p
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
    }
}

/// Short, readable numbers for ticks, tables and tooltips.
public enum NumberFormat {
    /// Up to 4 significant digits, no trailing zeros; scientific for the very large or small.
    public static func short(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e6 || a < 1e-3 { return String(format: "%.2e", x) }
        var s = String(format: "%.4g", x)
        if s.contains("e") { s = String(format: "%.2e", x) }
        return s
    }

    /// Fixed decimals.
    public static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}
