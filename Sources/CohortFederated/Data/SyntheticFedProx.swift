import CohortData
import CohortTensor
import Foundation

/// FedProx's Synthetic(alpha, beta) federated data (Li et al., "Federated Optimization in
/// Heterogeneous Networks", MLSys 2020), generated as published.
///
/// For each user k of 30: `n_k = int(lognormal(4, 2)) + 50` samples;
/// `u_k ~ N(0, alpha)` and `B_k ~ N(0, beta)` (standard deviations); a feature mean
/// `v_k ~ N(B_k, 1)` per dimension; a local model `W_k ~ N(u_k, 1)` (60 x 10) and
/// `b_k ~ N(u_k, 1)` (10); samples `x ~ N(v_k, Sigma)` with `Sigma = diag(j^-1.2)`,
/// j = 1..60; labels `y = argmax softmax(x W_k + b_k)`. Alpha controls how much the local
/// models differ, beta how much the users' features differ. Each user's samples are
/// shuffled and split 90/10 into train and test (`int(0.9 n_k)` train).
///
/// The IID variant draws one `W, b ~ N(0, 1)` for every user and feature mean 0, so
/// alpha and beta play no part.
///
/// Every number comes from streams named by the seed (sizes and priors from one, each
/// user's model and samples from its own), so a config's `(alpha, beta, iid, seed)` names
/// a data set exactly, on any machine and any rank.
public struct SyntheticFedProx: Sendable, Equatable, Codable {
    /// Standard deviation of the users' model means `u_k`.
    public var alpha: Double
    /// Standard deviation of the users' feature-mean centres `B_k`.
    public var beta: Double
    /// One shared model and zero feature mean for every user.
    public var iid: Bool
    /// Number of users (30 in the paper).
    public var users: Int
    /// Feature dimension d (60 in the paper).
    public var dimension: Int
    /// Number of classes (10 in the paper).
    public var classes: Int

    /// The published setting: 30 users, d = 60, 10 classes.
    public init(alpha: Double, beta: Double, iid: Bool = false, users: Int = 30, dimension: Int = 60, classes: Int = 10) {
        self.alpha = alpha
        self.beta = beta
        self.iid = iid
        self.users = users
        self.dimension = dimension
        self.classes = classes
    }

    // MARK: Published constants

    /// `mean` and `sigma` of the log-normal sample counts, and the count every user has at least.
    public static let sampleCountMu = 4.0, sampleCountSigma = 2.0, minimumSamples = 50
    /// The exponent of the feature covariance `diag(j^exponent)`.
    public static let covarianceExponent = -1.2
    /// The share of each user's samples that trains (the rest tests).
    public static let trainFraction = 0.9

    /// The data set's name, e.g. `synthetic(1,1)` or `synthetic-iid`.
    public var name: String {
        iid ? "synthetic-iid" : "synthetic(\(Self.format(alpha)),\(Self.format(beta)))"
    }

    // MARK: Validation

    /// Throws a one-line error for a parameter outside its range. Alpha = beta = 0 is
    /// allowed: Synthetic(0, 0) is one of the paper's data sets.
    public func validate() throws {
        try FederatedError.requireNonNegative(alpha, "data.alpha")
        try FederatedError.requireNonNegative(beta, "data.beta")
        try FederatedError.requireAtLeast(users, 1, "data.users")
        try FederatedError.requireAtLeast(dimension, 1, "data.dimension")
        try FederatedError.requireAtLeast(classes, 2, "data.classes")
    }

    // MARK: Generating

    /// One user's generated samples before the train/test split.
    public struct UserSamples: Sendable, Equatable {
        /// `count * dimension` feature values, row-major.
        public var features: [Double]
        public var labels: [Int32]
        public var count: Int { labels.count }
    }

    /// The federation: one client per user, named `f_00000`, `f_00001`, ..., with the
    /// train and test parts of the published split and an empty validation part.
    public func generate(seed: UInt64) throws -> FederatedDataset {
        try validate()
        let users = try generateUsers(seed: seed)
        var clients: [FederatedClient] = []
        clients.reserveCapacity(users.count)
        for (k, user) in users.enumerated() {
            var order = RandomStream(seed: seed, stream: [StreamPurpose.syntheticUser, UInt64(k), 1])
            let permutation = order.permutation(user.count)
            let trainCount = Int(Self.trainFraction * Double(user.count))
            let id = String(format: "f_%05d", k)
            clients.append(FederatedClient(
                id: id,
                train: try dataset(user, rows: permutation[..<trainCount], name: id + "/train"),
                validation: try dataset(user, rows: [], name: id + "/validation"),
                test: try dataset(user, rows: permutation[trainCount...], name: id + "/test")))
        }
        return try FederatedDataset(name: name, clients: clients)
    }

    /// Every user's samples in generation order, before shuffling and splitting.
    public func generateUsers(seed: UInt64) throws -> [UserSamples] {
        try generateUsersWithModels(seed: seed).map(\.samples)
    }

    /// The parameters a user's samples were drawn from.
    struct UserModel: Equatable {
        /// `v_k`, one mean per dimension.
        var featureMean: [Double]
        /// `W_k`, dimension x classes, row-major.
        var weights: [Double]
        /// `b_k`.
        var bias: [Double]
    }

    /// Every user's model and samples.
    func generateUsersWithModels(seed: UInt64) throws -> [(model: UserModel, samples: UserSamples)] {
        try validate()
        var prior = RandomStream(seed: seed, stream: [StreamPurpose.syntheticPrior])
        let counts = (0 ..< users).map { _ in
            Int(prior.logNormal(mu: Self.sampleCountMu, sigma: Self.sampleCountSigma)) + Self.minimumSamples
        }
        let modelMeans = (0 ..< users).map { _ in prior.normal(mean: 0, std: alpha) }
        let featureCentres = (0 ..< users).map { _ in prior.normal(mean: 0, std: beta) }
        let sharedModel: (weights: [Double], bias: [Double])? = iid ? {
            var global = RandomStream(seed: seed, stream: [StreamPurpose.syntheticPrior, 1])
            return drawModel(mean: 0, &global)
        }() : nil

        let standardDeviations = (1 ... dimension).map { pow(Double($0), Self.covarianceExponent).squareRoot() }
        return (0 ..< users).map { k in
            var random = RandomStream(seed: seed, stream: [StreamPurpose.syntheticUser, UInt64(k)])
            let featureMean = iid ? [Double](repeating: 0, count: dimension)
                                  : (0 ..< dimension).map { _ in random.normal(mean: featureCentres[k], std: 1) }
            let (weights, bias) = sharedModel ?? drawModel(mean: modelMeans[k], &random)
            let samples = drawSamples(count: counts[k], mean: featureMean, standardDeviations: standardDeviations,
                                      weights: weights, bias: bias, &random)
            return (UserModel(featureMean: featureMean, weights: weights, bias: bias), samples)
        }
    }

    /// `W ~ N(mean, 1)` of shape dimension x classes (row-major) and `b ~ N(mean, 1)`.
    private func drawModel(mean: Double, _ random: inout RandomStream) -> (weights: [Double], bias: [Double]) {
        let weights = (0 ..< dimension * classes).map { _ in random.normal(mean: mean, std: 1) }
        let bias = (0 ..< classes).map { _ in random.normal(mean: mean, std: 1) }
        return (weights, bias)
    }

    /// `count` samples `x ~ N(mean, diag(sd^2))` labelled by `argmax(x W + b)` (softmax
    /// is monotone, so its argmax is the logits' argmax; ties go to the lower class, as
    /// NumPy's argmax).
    private func drawSamples(count: Int, mean: [Double], standardDeviations: [Double],
                             weights: [Double], bias: [Double], _ random: inout RandomStream) -> UserSamples {
        var features = [Double](repeating: 0, count: count * dimension)
        var labels = [Int32](repeating: 0, count: count)
        var logits = [Double](repeating: 0, count: classes)
        for i in 0 ..< count {
            let row = i * dimension
            for j in 0 ..< dimension {
                features[row + j] = mean[j] + standardDeviations[j] * random.normal()
            }
            for c in 0 ..< classes { logits[c] = bias[c] }
            for j in 0 ..< dimension {
                let x = features[row + j]
                let w = j * classes
                for c in 0 ..< classes { logits[c] += x * weights[w + c] }
            }
            var best = 0
            for c in 1 ..< classes where logits[c] > logits[best] { best = c }
            labels[i] = Int32(best)
        }
        return UserSamples(features: features, labels: labels)
    }

    private func dataset<Rows: Collection>(_ user: UserSamples, rows: Rows, name: String) throws -> Dataset
    where Rows.Element == Int {
        var features: [Float] = []
        features.reserveCapacity(rows.count * dimension)
        var labels: [Int32] = []
        labels.reserveCapacity(rows.count)
        for row in rows {
            for j in 0 ..< dimension { features.append(Float(user.features[row * dimension + j])) }
            labels.append(user.labels[row])
        }
        return try FederatedError.wrappingDataErrors {
            try Dataset(name: name, sampleShape: [dimension], features: features, labels: labels, classCount: classes)
        }
    }

    private static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(x)
    }
}
