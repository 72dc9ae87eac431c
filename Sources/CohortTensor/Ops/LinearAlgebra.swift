import COpenBLAS

/// Dense linear algebra on row-major float matrices held in plain arrays, for code
/// that works on whole data sets rather than on tensors in a graph (feature
/// transforms, closed-form fits): a matrix product through the one `gemm` gateway and
/// LAPACK's symmetric eigendecomposition.
public enum LinearAlgebra {
    /// `c = alpha * op(a) * op(b) + beta * c`, row-major; op(a) is m x k, op(b) is k x n.
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                                m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                                alpha: Float = 1, beta: Float = 0) {
        gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha,
             a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, beta: beta, c: c, ldc: n)
    }

    /// The same on arrays; `c` must hold m x n values (nothing happens otherwise,
    /// nor when a matrix is empty).
    public static func multiply(_ a: [Float], _ b: [Float], into c: inout [Float], m: Int, n: Int, k: Int,
                                transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0) {
        guard a.count >= m * k, b.count >= k * n, c.count >= m * n else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = pc.baseAddress else { return }
                    multiply(ap, bp, into: cp, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// `op(a) * op(b)` as a new array (m x n).
    public static func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                               transposeA: Bool = false, transposeB: Bool = false) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        multiply(a, b, into: &c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        return c
    }

    public struct EigenError: Error, CustomStringConvertible {
        public var info: Int32
        public var description: String {
            info < 0 ? "ssyevd rejected argument \(-info)" : "the eigendecomposition did not converge (\(info) off-diagonal elements)"
        }
    }

    /// Eigenvalues in ascending order and the matching unit eigenvectors (row i of
    /// `vectors` is the eigenvector of `values[i]`) of the symmetric n x n `matrix`.
    public static func symmetricEigen(_ matrix: [Float], n: Int) throws -> (values: [Float], vectors: [Float]) {
        guard n > 0 else { return ([], []) }
        guard matrix.count == n * n, n <= Int(Int32.max / 4) else { throw EigenError(info: -3) }
        // Column-major LAPACK on a symmetric row-major matrix: the same matrix. On
        // return column j holds eigenvector j, which read row-major is row j.
        var a = matrix
        var w = [Float](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery: Float = 0, iworkQuery: Int32 = 0
        let jobz: CChar = 86 /* V */, uplo: CChar = 85 /* U */
        var jz = jobz, ul = uplo
        ssyevd_(&jz, &ul, &nn, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1)
        guard info == 0 else { throw EigenError(info: info) }
        lwork = Int32(workQuery.rounded(.up))
        liwork = iworkQuery
        var work = [Float](repeating: 0, count: Int(max(1, lwork)))
        var iwork = [Int32](repeating: 0, count: Int(max(1, liwork)))
        ssyevd_(&jz, &ul, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw EigenError(info: info) }
        return (w, a)
    }
}
