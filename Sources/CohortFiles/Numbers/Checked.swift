import Foundation

/// Conversions and products for numbers that came from outside (a config, a flag, a
/// file header). Swift traps on an overflowing `Int(_:)`, `*` or allocation; these
/// return `nil` instead, so the caller can name the value and its limit.
public enum Checked {
    /// `value` rounded toward zero as an `Int`, or nil when it is not finite or outside
    /// `Int`'s range.
    public static func int(_ value: Double) -> Int? {
        guard value.isFinite, value > -9.223372036854775e18, value < 9.223372036854775e18 else { return nil }
        return Int(value)
    }

    /// `value` as an `Int32`, or nil outside its range.
    public static func int32(_ value: Int) -> Int32? { Int32(exactly: value) }

    /// The product of `factors`, or nil when one is negative or the product overflows
    /// (or exceeds `limit`).
    public static func product<S: Sequence>(_ factors: S, limit: Int = .max) -> Int? where S.Element == Int {
        var total = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: f)
            guard !overflow, p <= limit else { return nil }
            total = p
        }
        return total
    }

    /// `a * b`, or nil on overflow or a negative factor.
    public static func product(_ a: Int, _ b: Int) -> Int? { product([a, b]) }

    /// `a + b`, or nil on overflow.
    public static func sum(_ a: Int, _ b: Int) -> Int? {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : s
    }
}

/// The bounds Cohort puts on numbers from outside, in one place. Each is far above any
/// real run and far below where arithmetic on it could overflow.
public enum Limits {
    /// A resource (epochs, iterations, units of a trainable): 1e9.
    public static let resource = 1e9
    /// Seconds (time limits, timeouts, simulated costs): about 31 years.
    public static let seconds = 1e9
    /// Counts (trials, rounds, clients, classes, steps): 2^31 - 1.
    public static let count = Int(Int32.max)
    /// Elements of one tensor or buffer read from a file: 2^34 (64 GiB of floats).
    public static let elements = 1 << 34
}
