import Foundation

/// A seedable, splittable random number generator.
///
/// Every random stream in Cohort is named by the experiment seed plus a stable identity
/// (trial id, client id, round, rank), never by which worker happens to run it, so the
/// same numbers come out wherever the work lands. A stream is xoshiro256** whose state
/// is derived from `(seed, identity...)` through SplitMix64 mixing; `state` can be saved
/// in a checkpoint and restored exactly.
public struct RandomStream: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words; saving and restoring them resumes the stream exactly.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// The stream named by `seed` and a path of identities, e.g. `(seed, [trialID])`
    /// or `(seed, [Purpose.clientSampling, round])`. Different paths give independent streams.
    public init(seed: UInt64, stream path: [UInt64] = []) {
        var key = RandomStream.mix(seed ^ 0x243F_6A88_85A3_08D3)
        for (depth, id) in path.enumerated() {
            key = RandomStream.mix(key ^ RandomStream.mix(id &+ UInt64(depth + 1) &* 0x9E37_79B9_7F4A_7C15))
        }
        var sm = key
        state = (RandomStream.splitMix(&sm), RandomStream.splitMix(&sm),
                 RandomStream.splitMix(&sm), RandomStream.splitMix(&sm))
        if state == (0, 0, 0, 0) { state.0 = 1 }
    }

    /// Convenience for a single identity.
    public init(seed: UInt64, stream id: UInt64) { self.init(seed: seed, stream: [id]) }

    /// Restores a stream from saved state words.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) { self.state = state }

    /// A child stream, independent of this one and of its siblings, that does not
    /// advance this stream.
    public func derived(_ id: UInt64) -> RandomStream {
        var s = RandomStream(state: state)
        let a = RandomStream.mix(s.state.0 ^ RandomStream.mix(id ^ 0xD1B5_4A32_D192_ED03))
        s.state = (a, RandomStream.mix(a ^ state.1), RandomStream.mix(a ^ state.2), RandomStream.mix(a ^ state.3))
        if s.state == (0, 0, 0, 0) { s.state.0 = 1 }
        return s
    }

    // MARK: Draws

    /// xoshiro256**.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [0, 1) with 24 random bits.
    @inlinable
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniformDouble() }

    /// Standard normal (Box-Muller; one draw per call so the stream position is simple).
    @inlinable
    public mutating func normal() -> Double {
        var u1 = uniformDouble()
        while u1 <= .leastNormalMagnitude { u1 = uniformDouble() }
        let u2 = uniformDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Normal with the given mean and standard deviation.
    @inlinable
    public mutating func normal(mean: Double, std: Double) -> Double { mean + std * normal() }

    /// Uniform integer in `0..<bound` without modulo bias.
    @inlinable
    public mutating func index(below bound: Int) -> Int {
        precondition(bound > 0, "index(below:) needs a positive bound")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A uniformly random permutation of `0..<count` (Fisher-Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        shuffle(&p)
        return p
    }

    /// Shuffles in place (Fisher-Yates), using only this stream.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, index(below: i + 1))
        }
    }

    // MARK: Equatable (tuples are not)

    public static func == (a: RandomStream, b: RandomStream) -> Bool { a.state == b.state }

    // MARK: Mixing

    @usableFromInline
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @usableFromInline
    static func splitMix(_ s: inout UInt64) -> UInt64 {
        s = s &+ 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inlinable @inline(__always)
func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
