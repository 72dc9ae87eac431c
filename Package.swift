// swift-tools-version:5.9
import PackageDescription

/// Cohort: distributed hyperparameter search, weight-sharing NAS and federated
/// training over Open MPI, on one tensor core over OpenBLAS.
let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cohort", targets: ["CohortCLI"]),
        .library(name: "CohortFiles", targets: ["CohortFiles"]),
        .library(name: "CohortCluster", targets: ["CohortCluster"]),
        .library(name: "CohortTensor", targets: ["CohortTensor"]),
        .library(name: "CohortData", targets: ["CohortData"]),
        .library(name: "CohortTrain", targets: ["CohortTrain"]),
        .library(name: "CohortTune", targets: ["CohortTune"]),
        .library(name: "CohortFederated", targets: ["CohortFederated"]),
        .library(name: "CohortNAS", targets: ["CohortNAS"]),
        .library(name: "CohortPipelines", targets: ["CohortPipelines"]),
        .library(name: "CohortXD", targets: ["CohortXD"]),
        .library(name: "CohortMeta", targets: ["CohortMeta"]),
        .library(name: "CohortORCA", targets: ["CohortORCA"]),
        .library(name: "CohortReport", targets: ["CohortReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // MARK: Layers
        // The foundation: config documents and errors, JSON, run directories, journals,
        // atomic writes. Every workload reads and writes its files through it.
        .target(name: "CohortFiles", dependencies: ["CSpawn", .product(name: "Yams", package: "Yams")]),
        // posix_spawn with the GNU extensions (chdir, closefrom) for users' programs.
        .target(name: "CSpawn"),
        .target(name: "CohortCluster", dependencies: ["CMPI"]),
        // Measured clock and FMA throughput of a core, for the peak benchmarks compare with.
        // Optimised in every configuration: unoptimised, the loops measure the compiler.
        .target(name: "CMachine", cSettings: [.unsafeFlags(["-O2"])]),
        // Direct convolution kernels (AVX-512 / AVX2), optimised in every configuration.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CohortTensor", dependencies: ["COpenBLAS", "CMachine", "CKernels"]),
        .target(name: "CohortData", dependencies: ["CohortTensor", "CZlib"],
                exclude: ["Resources"]),
        .target(name: "CohortTrain", dependencies: [
            "CohortFiles", "CohortTensor", "CohortData", "CohortCluster",
        ]),
        .target(name: "CohortTune", dependencies: [
            "CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTrain",
        ]),

        .target(name: "CohortFederated", dependencies: [
            "CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTune",
        ]),
        .target(name: "CohortNAS", dependencies: [
            "CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTune", "CohortTrain",
        ]),
        .target(name: "CohortPipelines", dependencies: ["CohortFiles", "CohortTensor", "CohortData", "CohortTune"]),
        // XD-operations: butterfly-parameterised convolutions searched beside the weights.
        .target(name: "CohortXD", dependencies: ["CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTrain"]),
        // Meta-learning under a labelled-point budget: ProtoNets, first-order MAML, Reptile.
        .target(name: "CohortMeta", dependencies: ["CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTrain"]),
        // ORCA: a pretrained BERT body, an embedder aligned to its text features, fine-tuned on other modalities.
        .target(name: "CohortORCA", dependencies: ["CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTrain", "CohortXD"]),
        .target(name: "CohortReport", dependencies: ["CohortFiles", "CohortTune", "CohortFederated", "CohortNAS", "CohortPipelines", "CohortXD", "CohortMeta", "CohortORCA"]),

        // MARK: Conformance suite shared by XCTest (in-process) and mpirun (Open MPI)
        .target(name: "CohortConformance", dependencies: ["CohortCluster"]),
        .executableTarget(name: "cohort-conformance", dependencies: ["CohortConformance", "CohortCluster"]),

        // MARK: Command line
        .executableTarget(name: "CohortCLI", dependencies: [
            "CohortFiles", "CohortCluster", "CohortTensor", "CohortData", "CohortTrain", "CohortTune", "CohortFederated", "CohortNAS", "CohortPipelines", "CohortXD", "CohortMeta", "CohortORCA", "CohortReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests
        .testTarget(name: "CohortFilesTests", dependencies: ["CohortFiles"]),
        .testTarget(name: "CohortXDTests", dependencies: ["CohortXD", "CohortTensor", "CohortData", "CohortFiles", "CohortCluster"]),
        .testTarget(name: "CohortORCATests", dependencies: ["CohortORCA", "CohortTensor", "CohortFiles", "CohortCluster"]),
        .testTarget(name: "CohortPipelinesTests", dependencies: ["CohortPipelines", "CohortTune", "CohortFiles", "CohortTensor", "CohortData"]),
        .testTarget(name: "CohortClusterTests", dependencies: ["CohortCluster", "CohortConformance"]),
        .testTarget(name: "CohortTensorTests", dependencies: ["CohortTensor"]),
        .testTarget(name: "CohortDataTests", dependencies: ["CohortData", "CohortTensor"]),
        .testTarget(name: "CohortTrainTests", dependencies: ["CohortTrain", "CohortFiles", "CohortCluster"]),
        .testTarget(name: "CohortTuneTests", dependencies: ["CohortTune", "CohortFiles"]),
        .testTarget(name: "CohortFederatedTests", dependencies: ["CohortFederated", "CohortFiles"]),
        .testTarget(name: "CohortNASTests", dependencies: ["CohortNAS", "CohortTrain", "CohortFiles"]),
        .testTarget(name: "CohortReportTests", dependencies: ["CohortReport", "CohortFiles", "CohortTrain", "CohortTune", "CohortFederated", "CohortNAS", "CohortXD", "CohortMeta", "CohortORCA"]),
        .testTarget(name: "CohortMetaTests", dependencies: ["CohortMeta", "CohortData", "CohortTensor", "CohortFiles", "CohortCluster"]),
    ]
)
