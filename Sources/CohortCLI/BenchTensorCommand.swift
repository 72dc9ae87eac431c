import ArgumentParser
import CohortTensor
import Foundation

/// `cohort bench tensor`: sgemm against the machine's peak, training-step times of the
/// reference MLP and small CNN, and conv2d forward/backward.
struct BenchTensorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor",
        abstract: "Time BLAS, model steps and convolutions.",
        discussion: """
        Peak = measured: what independent fused multiply-adds of the BLAS kernel's vector width
        (512-bit for SkylakeX, 256-bit for Haswell/Zen) do on as many threads, at the clock the
        cores really run. OpenBLAS's sgemm reaches 85-95% of it.
        If OpenBLAS picked its slow generic kernel on an AVX-512 machine, the command restarts
        itself with OPENBLAS_CORETYPE=SkylakeX (set the variable yourself to choose another).
        Compare with PyTorch: scripts/bench/tensor.sh.
        """)

    @Option(help: "Comma-separated OpenBLAS thread counts.")
    var threads: String = "1,2"

    @Option(help: "Comma-separated sgemm sizes n (n×n×n).")
    var sizes: String = "256,512,1024"

    @Option(help: "Repeats of each training step (the median is reported).")
    var repeats: Int = 30

    @Option(help: "Comma-separated workloads: sgemm, mlp, cnn, conv.")
    var workloads: String = "sgemm,mlp,cnn,conv"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        try BLASKernel.ensureFastKernel()
        let threadCounts = try parseList(threads, "--threads")
        let n = try parseList(sizes, "--sizes")
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
        let chosen = Set(workloads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let known: Set<String> = ["sgemm", "mlp", "cnn", "conv"]
        guard !chosen.isEmpty, chosen.isSubset(of: known) else {
            throw ValidationError("--workloads takes some of sgemm, mlp, cnn, conv; got '\(workloads)'")
        }
        let peak = MachinePeak.measure()
        var results: [TensorBenchmark.Result] = []
        for t in threadCounts {
            BLASRuntime.setThreads(t)
            if chosen.contains("sgemm") {
                let threadsPeak = peak.gflops(threads: t)
                for size in n { results.append(TensorBenchmark.sgemm(n: size, threads: t, peak: threadsPeak)) }
            }
            if chosen.contains("mlp") { results.append(TensorBenchmark.mlpStep(threads: t, repeats: repeats)) }
            if chosen.contains("cnn") { results.append(TensorBenchmark.cnnStep(threads: t, repeats: max(5, repeats / 2))) }
            if chosen.contains("conv") {
                results += TensorBenchmark.conv2d(n: 128, cin: 16, cout: 32, size: 14, threads: t, repeats: max(5, repeats / 2))
            }
        }
        if json {
            struct Report: Encodable { let blasCore: String; let peak: MachinePeak; let peakGFLOPSPerCore: Double; let results: [TensorBenchmark.Result] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Report(blasCore: BLASRuntime.coreName, peak: peak, peakGFLOPSPerCore: peak.perCoreGFLOPS, results: results))
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("CPU: \(peak.model), \(peak.cores) cores")
        print(peak.summary)
        print("GFLOP/s and % peak use the fastest run; times are per call.")
        print("")
        print(pad("workload", 54) + pad("threads", 8) + pad("median ms", 11) + pad("best ms", 10) + pad("GFLOP/s", 10) + "% peak")
        for r in results {
            let gf = r.gflops.map { String(format: "%.1f", $0) } ?? "-"
            let pp = r.percentOfPeak.map { String(format: "%.0f%%", $0) } ?? ""
            print(pad(r.name, 54) + pad(String(r.threads), 8) + pad(String(format: "%.3f", r.milliseconds), 11)
                  + pad(String(format: "%.3f", r.bestMilliseconds), 10) + pad(gf, 10) + pp)
        }
    }

    private func parseList(_ text: String, _ option: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("\(option) takes positive integers separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }

    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
}

/// OpenBLAS picks its kernel when the library loads; Debian's 0.3.21 does not know
/// newer CPUs and falls back to "Prescott" (several times slower). Only
/// OPENBLAS_CORETYPE set before loading cures it, so the benchmark restarts itself once.
enum BLASKernel {
    static func ensureFastKernel() throws {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let fix = BLASRuntime.recommendedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", fix, 1)
        var cargs = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cargs)
        throw ValidationError("OpenBLAS chose its slow '\(BLASRuntime.coreName)' kernel and restarting with OPENBLAS_CORETYPE=\(fix) failed; set it yourself")
    }
}
