import CohortCluster
import CohortTensor
import Foundation

/// Viscous Burgers' equation on the periodic unit interval, u_t + (u²/2)_x = ν u_xx,
/// as the operator-learning benchmark: map u(·, 0) to u(·, T).
///
/// The default ν = 0.01 keeps the map nonlinear: at ν = 0.1 diffusion alone shrinks the
/// lowest mode to e^(-0.4π²) ≈ 2% by T = 1, and u(·, 1) is little more than a faint
/// low-pass copy of u(·, 0).
///
/// Initial conditions are Gaussian random fields N(0, σ²(-Δ + τ²)^(-γ)) (defaults
/// σ² = 625, τ² = 25, γ = 2, mean zero), drawn in Fourier space from a stream of
/// (seed, sample index). The solver is pseudo-spectral on `grid` points: the diffusion
/// is integrated exactly (integrating factor), the advection by classical RK4, with
/// products dealiased by the 2/3 rule. The time step keeps RK4 stable for |u| up to
/// `amplitudeBound` at the largest retained wavenumber (Burgers' solutions never exceed
/// their initial maximum); a field above the bound is refused. Samples are solved many
/// at a time (the batch is the FFT's inner axis) and `resolution` points are kept.
public struct BurgersEquation: Sendable, Equatable {
    public var viscosity = 0.01
    public var time = 1.0
    public var grid = 1024
    public var resolution = 256
    public var variance = 625.0
    public var tauSquared = 25.0
    public var gamma = 2.0
    public var amplitudeBound = 3.0

    public init() {}

    /// Checks sizes before anything is allocated.
    public func validate() throws {
        guard grid >= 8, grid <= 1 << 16, grid & (grid - 1) == 0 else { throw XDInputError("burgers.grid must be a power of two in 8...65536, got \(grid)") }
        guard resolution >= 2, resolution <= grid, grid % resolution == 0, resolution & (resolution - 1) == 0 else {
            throw XDInputError("burgers.resolution must be a power of two dividing burgers.grid (\(grid)), got \(resolution)")
        }
        guard viscosity > 0, viscosity.isFinite, time > 0, time <= 100, variance > 0, tauSquared > 0, gamma > 0, amplitudeBound > 0 else {
            throw XDInputError("burgers: viscosity, time (at most 100), variance, tau_squared, gamma and amplitude_bound must be positive")
        }
        guard steps <= 10_000_000 else { throw XDInputError("burgers: these settings need \(steps) time steps; lower the grid or the amplitude bound") }
    }

    /// Time steps to `time`: the fewest for which (1) advection moves modes up to k = 16
    /// by at most half a radian per step at |u| = `amplitudeBound` (RK4's local error
    /// there is below 3e-4 of a mode that diffusion has by then all but erased), and
    /// (2) every retained mode is stable: where RK4 alone would amplify the advective
    /// part (z = κ·A·dt above 2.5, growth about z⁴/24), the exact diffusion factor
    /// e^(-νκ²dt) outweighs it by a wide margin (νκ²dt ≥ 4 ln z).
    public var steps: Int {
        let accuracy = Int((time * amplitudeBound * 2 * Double.pi * 16 / 0.5).rounded(.up))
        var m = max(accuracy, 1)
        while m < 10_000_000 {
            let dt = time / Double(m)
            let stable = (1...max(grid / 3, 1)).allSatisfy { k in
                let kappa = 2 * Double.pi * Double(k), z = kappa * amplitudeBound * dt
                return z <= 2.5 || viscosity * kappa * kappa * dt >= 4 * Foundation.log(z)
            }
            if stable { return m }
            m = m + m / 8 + 1
        }
        return m
    }

    /// `count` pairs (input [2, resolution]: u0 and the grid x; target [1, resolution]:
    /// u at `time`), sample i drawn from (seed, i). Ranks solve interleaved shares and
    /// one sum-allreduce gives every rank every sample, identical to solving alone.
    public func pairs(count: Int, seed: UInt64, firstIndex: Int = 0, name: String, communicator: Communicator? = nil) throws -> FieldPairs {
        try validate()
        guard count >= 1, count <= 1_000_000 else { throw XDInputError("burgers: sample count must be in 1...1000000, got \(count)") }
        let n = resolution, stride = grid / resolution
        var inputs = [Float](repeating: 0, count: count * 2 * n), targets = [Float](repeating: 0, count: count * n)
        let rank = communicator?.rank ?? 0, ranks = communicator?.size ?? 1
        let mine = Array(Swift.stride(from: rank, to: count, by: ranks))
        let batch = 64
        var start = 0
        while start < mine.count {
            let chunk = Array(mine[start..<min(start + batch, mine.count)])
            let fields = try chunk.map { try initialCondition(seed: seed, index: firstIndex + $0) }
            let finals = try solve(fields)
            for (b, i) in chunk.enumerated() {
                for j in 0..<n {
                    inputs[(i * 2) * n + j] = fields[b][j * stride]
                    inputs[(i * 2 + 1) * n + j] = Float(j) / Float(n)
                    targets[i * n + j] = finals[b][j * stride]
                }
            }
            start += batch
        }
        if let communicator, ranks > 1 {
            try communicator.allreduce(&inputs, op: .sum)
            try communicator.allreduce(&targets, op: .sum)
        }
        return try FieldPairs(name: name, inputShape: [2, n], targetShape: [1, n], inputs: inputs, targets: targets)
    }

    /// One initial condition on the solver grid.
    public func initialCondition(seed: UInt64, index: Int) throws -> [Float] {
        var rng = RandomStream(seed: seed, stream: [0x6275_7267_6572_73, UInt64(index)])
        let n = grid
        var re = [Float](repeating: 0, count: n), im = re
        for k in 1..<(n / 2) {
            let wave = 2 * Double.pi * Double(k)
            let amplitude = (variance * Foundation.pow(wave * wave + tauSquared, -gamma)).squareRoot() / 2.0.squareRoot()
            let a = Float(amplitude * rng.normal()), b = Float(amplitude * rng.normal())
            re[k] = a; im[k] = b
            re[n - k] = a; im[n - k] = -b
        }
        FFTPlan(length: n).transform(real: &re, imag: &im, outer: 1, inner: 1, inverse: true, scale: 1)
        let peak = re.map(abs).max() ?? 0
        guard Double(peak) <= amplitudeBound else {
            throw XDInputError("burgers: initial condition \(index) reaches |u| = \(peak), above amplitude_bound \(amplitudeBound)")
        }
        return re
    }

    /// u(·, time) for each initial condition (all on the solver grid).
    public func solve(_ fields: [[Float]]) throws -> [[Float]] {
        let n = grid, b = fields.count
        guard b > 0 else { return [] }
        let plan = FFTPlan(length: n)
        let size = n * b
        // Complex buffers as [n, b] (wavenumber-major, samples innermost): the state v,
        // the four RK4 stages, a stage's input and the transform's workspace.
        let buffers = (0..<14).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: size) }
        defer { buffers.forEach { $0.deallocate() } }
        let (vr, vi) = (buffers[0], buffers[1]), (ar, ai) = (buffers[2], buffers[3]), (br, bi) = (buffers[4], buffers[5])
        let (cr, ci) = (buffers[6], buffers[7]), (dr, di) = (buffers[8], buffers[9])
        let (sr, si) = (buffers[10], buffers[11]), (wr, wi) = (buffers[12], buffers[13])
        vi.update(repeating: 0, count: size)
        for (s, f) in fields.enumerated() { for j in 0..<n { vr[j * b + s] = f[j] } }
        plan.transform(real: vr, imag: vi, outer: 1, inner: b, inverse: false)
        let dt = time / Double(steps)
        let cutoff = n / 3
        var kappa = [Float](repeating: 0, count: n), half = kappa, full = kappa
        for j in 0..<n {
            let k = j < n / 2 ? j : j - n
            let wave = 2 * Double.pi * Double(k)
            kappa[j] = abs(k) <= cutoff && j != n / 2 ? Float(dt * wave) : 0
            half[j] = Float(Foundation.exp(-viscosity * wave * wave * dt / 2))
            full[j] = Float(Foundation.exp(-viscosity * wave * wave * dt))
        }
        /// out = -dt (u²/2)_x in Fourier space for the state in (sr, si), dealiased.
        func advection(_ outR: UnsafeMutablePointer<Float>, _ outI: UnsafeMutablePointer<Float>) {
            wr.update(from: sr, count: size)
            wi.update(from: si, count: size)
            plan.transform(real: wr, imag: wi, outer: 1, inner: b, inverse: true, scale: 1 / Float(n))
            for i in 0..<size { wr[i] = 0.5 * wr[i] * wr[i]; wi[i] = 0 }
            plan.transform(real: wr, imag: wi, outer: 1, inner: b, inverse: false)
            for j in 0..<n {
                let kj = kappa[j]
                for s in (j * b)..<(j * b + b) { outR[s] = kj * wi[s]; outI[s] = -kj * wr[s] }
            }
        }
        /// (sr, si) = e·v + c·stage, wavenumber by wavenumber.
        func stageInput(_ e: [Float], _ c: Float, _ pr: UnsafeMutablePointer<Float>, _ pi: UnsafeMutablePointer<Float>, scaleStage: [Float]? = nil) {
            for j in 0..<n {
                let ej = e[j], cj = c * (scaleStage?[j] ?? 1)
                for s in (j * b)..<(j * b + b) { sr[s] = ej * vr[s] + cj * pr[s]; si[s] = ej * vi[s] + cj * pi[s] }
            }
        }
        for _ in 0..<steps {
            sr.update(from: vr, count: size); si.update(from: vi, count: size)
            advection(ar, ai)                                  // a = N(v)
            stageInput(half, 0.5, ar, ai, scaleStage: half); advection(br, bi)   // b = N(E(v + a/2))
            stageInput(half, 0.5, br, bi); advection(cr, ci)                     // c = N(E v + b/2)
            stageInput(full, 1, cr, ci, scaleStage: half); advection(dr, di)             // d = N(E² v + E c)
            for j in 0..<n {
                let e = half[j], e2 = full[j]
                for s in (j * b)..<(j * b + b) {
                    vr[s] = e2 * vr[s] + (e2 * ar[s] + 2 * e * (br[s] + cr[s]) + dr[s]) / 6
                    vi[s] = e2 * vi[s] + (e2 * ai[s] + 2 * e * (bi[s] + ci[s]) + di[s]) / 6
                }
            }
        }
        plan.transform(real: vr, imag: vi, outer: 1, inner: b, inverse: true, scale: 1 / Float(n))
        var finals = [[Float]](repeating: [], count: b)
        for s in 0..<b { finals[s] = (0..<n).map { vr[$0 * b + s] } }
        guard finals.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw XDInputError("burgers: the solver diverged; raise amplitude_bound to take smaller steps")
        }
        return finals
    }
}
