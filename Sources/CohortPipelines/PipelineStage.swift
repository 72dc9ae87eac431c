import CohortTensor
import Foundation

/// One featurising step of a pipeline, with its settings: what a trial's chain of
/// stages is made of. Stages that learn from data (standardisation, PCA) fit on the
/// training split only and apply the fit to all three splits.
public enum PipelineStage: Equatable, Sendable, CustomStringConvertible {
    /// Each column to zero mean and unit variance (constant columns only centred).
    case standardize
    /// Projection on the `components` leading principal axes of the centred training
    /// data (LAPACK's ssyevd on the covariance).
    case pca(components: Int)
    /// Random Fourier features for a Gaussian kernel (Rahimi and Recht): `dimension`
    /// features sqrt(2/D) cos(x w + b), w ~ N(0, I / sigma^2), b ~ U[0, 2 pi), with
    /// sigma = `bandwidth` x sqrt(input columns), so 1 suits standardised inputs.
    case rff(dimension: Int, bandwidth: Double)
    /// Every monomial of the inputs of degree 1 ... `degree`.
    case poly(degree: Int)

    /// The stage names a config may use, in the order they are usually chained.
    public enum Kind: String, CaseIterable, Sendable {
        case standardize, pca, rff, poly

        /// The settings the search space may give (as `<stage>.<setting>`), with the
        /// value used when the space does not.
        public var settings: [(name: String, fallback: Double)] {
            switch self {
            case .standardize: return []
            case .pca: return [("components", 50)]
            case .rff: return [("dimension", 1024), ("bandwidth", 1)]
            case .poly: return [("degree", 2)]
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .standardize: return .standardize
        case .pca: return .pca
        case .rff: return .rff
        case .poly: return .poly
        }
    }

    /// The largest output a stage may produce: a hyperparameter that would need more
    /// fails its trial with a message instead of exhausting memory.
    public static let maxColumns = 65_536

    /// The most float values one stage output (or its parameters) may hold.
    public static let maxValues = Double(1 << 31)

    /// The settings as they enter the stage's cache key.
    public var description: String {
        switch self {
        case .standardize: return "standardize"
        case let .pca(k): return "pca(components=\(k))"
        case let .rff(d, b): return "rff(dimension=\(d), bandwidth=\(b))"
        case let .poly(p): return "poly(degree=\(p))"
        }
    }

    /// Output columns for `inputColumns` in, or why the stage cannot run on them.
    public func outputColumns(for inputColumns: Int) throws -> Int {
        switch self {
        case .standardize: return inputColumns
        case let .pca(k):
            guard k >= 1 else { throw PipelineError.setting("pca.components must be at least 1, got \(k)") }
            guard k <= inputColumns else {
                throw PipelineError.setting("pca.components is \(k), more than the \(inputColumns) columns it receives")
            }
            return k
        case let .rff(d, b):
            guard d >= 1, d <= Self.maxColumns else { throw PipelineError.setting("rff.dimension must be between 1 and \(Self.maxColumns), got \(d)") }
            guard b > 0, b.isFinite else { throw PipelineError.setting("rff.bandwidth must be positive, got \(b)") }
            return d
        case let .poly(p):
            guard p >= 1, p <= 4 else { throw PipelineError.setting("poly.degree must be between 1 and 4, got \(p)") }
            // C(n + p, p) - 1 monomials of degree 1 ... p, counted without overflow.
            var count = 1.0
            for i in 1...p { count = count * Double(inputColumns + i) / Double(i) }
            let monomials = count.rounded() - 1
            guard monomials <= Double(Self.maxColumns) else {
                throw PipelineError.setting("poly.degree \(p) on \(inputColumns) columns makes \(Int(min(monomials, 9e15))) features, more than \(Self.maxColumns): reduce the input first (pca)")
            }
            return Int(monomials)
        }
    }

    /// The stage's output on `input`. `streamKey` (the stage's cache key) seeds the
    /// random features, so one key always means one output.
    public func apply(to input: FeatureSet, seed: UInt64, streamKey: UInt64) throws -> FeatureSet {
        let d = input.columns
        let out = try outputColumns(for: d)
        let n = input.trainRows
        guard n >= 2 else { throw PipelineError.setting("the training split has \(n) rows; a pipeline needs at least 2") }
        // Sizes are checked before anything is allocated: the output (and for random
        // features the projection) must stay within 2^31 values (8 GB).
        let rows = Double(input.trainRows + input.validationRows + input.testRows)
        var values = rows * Double(out)
        if case .rff = self { values = max(values, Double(d) * Double(out)) }
        if case .pca = self { values = max(values, Double(d) * Double(d)) }
        guard values <= Self.maxValues else {
            throw PipelineError.setting("\(self) on \(Int(rows)) rows of \(d) columns would hold \(String(format: "%.3g", values)) values, more than \(Int(Self.maxValues)) (8 GB): choose smaller settings")
        }
        switch self {
        case .standardize:
            let (mean, scale) = Self.columnMoments(input.train, rows: n, columns: d)
            return input.mapSplits(columns: d) { x, rows in
                var y = x
                for r in 0..<rows {
                    for c in 0..<d { y[r * d + c] = (x[r * d + c] - mean[c]) * scale[c] }
                }
                return y
            }
        case let .pca(k):
            let (mean, _) = Self.columnMoments(input.train, rows: n, columns: d)
            let centred = Self.centre(input.train, rows: n, columns: d, mean: mean)
            let covariance = LinearAlgebra.product(centred, centred, m: d, n: d, k: n, transposeA: true)
            let (_, vectors) = try LinearAlgebra.symmetricEigen(covariance, n: d)
            // Rows d-k ..< d hold the leading axes (ascending eigenvalues); largest first.
            var axes = [Float](repeating: 0, count: k * d)
            for i in 0..<k {
                let row = d - 1 - i
                // Fix each axis's sign (largest entry positive): LAPACK's choice is arbitrary.
                var pivot: Float = 0
                for c in 0..<d where abs(vectors[row * d + c]) > abs(pivot) { pivot = vectors[row * d + c] }
                let sign: Float = pivot < 0 ? -1 : 1
                for c in 0..<d { axes[i * d + c] = sign * vectors[row * d + c] }
            }
            return input.mapSplits(columns: k) { x, rows in
                LinearAlgebra.product(Self.centre(x, rows: rows, columns: d, mean: mean), axes, m: rows, n: k, k: d, transposeB: true)
            }
        case let .rff(dimension, bandwidth):
            var rng = RandomStream(seed: seed, stream: [Self.rffStream, streamKey])
            let sigma = bandwidth * Double(d).squareRoot()
            let w = (0..<(d * dimension)).map { _ in Float(rng.normal() / sigma) }
            let b = (0..<dimension).map { _ in Float(rng.uniformDouble() * 2 * Double.pi) }
            let scale = Float((2.0 / Double(dimension)).squareRoot())
            return input.mapSplits(columns: dimension) { x, rows in
                var z = LinearAlgebra.product(x, w, m: rows, n: dimension, k: d)
                for r in 0..<rows {
                    for j in 0..<dimension { z[r * dimension + j] = scale * cos(z[r * dimension + j] + b[j]) }
                }
                return z
            }
        case let .poly(degree):
            let monomials = Self.monomials(columns: d, degree: degree)
            return input.mapSplits(columns: out) { x, rows in
                var y = [Float](repeating: 0, count: rows * out)
                for r in 0..<rows {
                    let row = r * d
                    for (j, factors) in monomials.enumerated() {
                        var v: Float = 1
                        for f in factors { v *= x[row + f] }
                        y[r * out + j] = v
                    }
                }
                return y
            }
        }
    }

    /// Tags the random-feature streams apart from other streams of the seed.
    static let rffStream: UInt64 = 0x5069_7065_5246_4621 // "PipeRFF!"

    /// Column means and inverse standard deviations (1 for a constant column).
    static func columnMoments(_ x: [Float], rows: Int, columns d: Int) -> (mean: [Float], scale: [Float]) {
        var sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        for r in 0..<rows {
            for c in 0..<d {
                let v = Double(x[r * d + c])
                sum[c] += v
                squares[c] += v * v
            }
        }
        let mean = sum.map { $0 / Double(rows) }
        let scale = (0..<d).map { c -> Float in
            let variance = max(0, squares[c] / Double(rows) - mean[c] * mean[c])
            return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        return (mean.map { Float($0) }, scale)
    }

    static func centre(_ x: [Float], rows: Int, columns d: Int, mean: [Float]) -> [Float] {
        var y = x
        for r in 0..<rows {
            for c in 0..<d { y[r * d + c] -= mean[c] }
        }
        return y
    }

    /// The column index tuples (non-decreasing) of every monomial of degree 1 ... p.
    static func monomials(columns d: Int, degree p: Int) -> [[Int]] {
        var all: [[Int]] = []
        var current: [Int] = []
        func extend(from start: Int) {
            if !current.isEmpty { all.append(current) }
            guard current.count < p else { return }
            for c in start..<d {
                current.append(c)
                extend(from: c)
                current.removeLast()
            }
        }
        extend(from: 0)
        return all
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    /// A stage cannot run with the settings it was given (the trial fails).
    case setting(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case let .setting(m): return m
        case let .checkpoint(m): return "bad checkpoint: \(m)"
        }
    }
}
