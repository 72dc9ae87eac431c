import CohortTensor
import Foundation

/// The squared maximum mean discrepancy between two samples of feature vectors under a
/// sum of Gaussian kernels k(a, b) = Σ_s exp(-‖a - b‖² / (2 s² σ²)):
/// MMD² = mean k(x, x') + mean k(y, y') - 2 mean k(x, y) (biased estimate, V-statistic).
///
/// σ² is fixed once from the source features (the median squared distance between
/// them), and the scales s² ∈ {1/4, 1/2, 1, 2, 4} cover distances above and below it, so
/// the distance neither saturates nor vanishes while the embedder moves.
public struct MaximumMeanDiscrepancy: Sendable {
    public let bandwidth: Float
    public static let scales: [Float] = [0.25, 0.5, 1, 2, 4]

    public init(bandwidth: Float) {
        precondition(bandwidth > 0 && bandwidth.isFinite, "MMD bandwidth must be positive, got \(bandwidth)")
        self.bandwidth = bandwidth
    }

    /// σ² from `features` ([count × width]): the median squared distance between pairs.
    public init(medianOf features: [Float], width: Int) {
        let n = features.count / width
        var d: [Float] = []
        for i in 0..<n { for j in (i + 1)..<n {
            var s: Float = 0
            for k in 0..<width { let v = features[i * width + k] - features[j * width + k]; s += v * v }
            d.append(s)
        } }
        d.sort()
        self.init(bandwidth: d.isEmpty ? 1 : max(d[d.count / 2], 1e-6))
    }

    /// ‖a_i - b_j‖² for rows of a [n, d] and b [m, d]: [n, m].
    func squaredDistances(_ a: Tensor, _ b: Tensor, _ tape: Tape) -> Tensor {
        let aa = tape.sum(tape.mul(a, a), axes: [1], keepDims: true)
        let bb = tape.reshape(tape.sum(tape.mul(b, b), axes: [1], keepDims: true), [1, b.shape[0]])
        return tape.add(tape.add(aa, bb), tape.mul(tape.matmul(a, b, transposeB: true), -2))
    }

    func meanKernel(_ a: Tensor, _ b: Tensor, _ tape: Tape) -> Tensor {
        let d = squaredDistances(a, b, tape)
        var total: Tensor?
        for s in Self.scales {
            let k = tape.mean(tape.exp(tape.mul(d, -1 / (2 * s * bandwidth))))
            total = total.map { tape.add($0, k) } ?? k
        }
        return total!
    }

    /// MMD² between x [n, d] and y [m, d] as a one-element tensor (differentiable in both).
    public func callAsFunction(_ x: Tensor, _ y: Tensor, _ tape: Tape) -> Tensor {
        precondition(x.rank == 2 && y.rank == 2 && x.shape[1] == y.shape[1], "MMD needs [n, d] and [m, d], got \(x.shape) and \(y.shape)")
        let xy = meanKernel(x, y, tape)
        return tape.sub(tape.add(meanKernel(x, x, tape), meanKernel(y, y, tape)), tape.mul(xy, 2))
    }
}
