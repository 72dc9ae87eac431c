import COpenBLAS
import Foundation

/// What OpenBLAS chose at load time, and whether it chose badly.
///
/// Debian's OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to the
/// "Prescott" (SSE3) kernels, running sgemm about 5x below the machine's speed. Setting
/// `OPENBLAS_CORETYPE` before the process starts fixes it; this type detects the case so
/// that `cohort info` can say so and the launch scripts can set the variable.
public enum BLASRuntime {
    /// The kernel family OpenBLAS is using, e.g. "SkylakeX", "Haswell", "Prescott".
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build description (version, threading model, architecture).
    public static var configuration: String {
        String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the threads OpenBLAS uses for one call (one per rank under MPI).
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }

    /// Kernels that use AVX2 or wider vectors.
    static let vectorKernels: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]

    /// The `OPENBLAS_CORETYPE` value that would use this CPU's vector units, when the
    /// kernel OpenBLAS picked does not; `nil` when the choice is already right.
    public static var recommendedCoreType: String? {
        recommendation(coreName: coreName, cpu: CPUFeatures.current)
    }

    static func recommendation(coreName: String, cpu: CPUFeatures) -> String? {
        guard !vectorKernels.contains(coreName.lowercased()) else { return nil }
        if cpu.avx512f { return "SkylakeX" }
        if cpu.avx2 { return "Haswell" }
        return nil
    }

    /// A one-line warning when OpenBLAS fell back to a slow kernel, else `nil`.
    public static var fallbackWarning: String? {
        guard let fix = recommendedCoreType else { return nil }
        let isa = CPUFeatures.current.avx512f ? "AVX-512" : "AVX2"
        return "OpenBLAS chose the '\(coreName)' kernel on a CPU with \(isa): BLAS runs several times slower than it can. "
            + "Set OPENBLAS_CORETYPE=\(fix) before starting (scripts/mpirun.sh does this)."
    }
}

/// The CPU's vector extensions, read from `/proc/cpuinfo` on Linux.
public struct CPUFeatures: Equatable, Sendable {
    public var avx2: Bool
    public var avx512f: Bool
    public var fma: Bool
    /// AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels need.
    public var avx512SkylakeX: Bool
    /// Nominal clock in GHz (from the model name or "cpu MHz"), when known.
    public var gigahertz: Double?
    public var modelName: String

    public static let current: CPUFeatures = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return CPUFeatures(cpuinfo: text)
    }()

    /// Parses the first processor block of a `/proc/cpuinfo` text.
    public init(cpuinfo: String) {
        var flags: Set<Substring> = []
        var model = "unknown"
        var mhz: Double?
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "flags" where flags.isEmpty: flags = Set(parts[1].split(separator: " "))
            case "model name" where model == "unknown": model = parts[1]
            case "cpu MHz" where mhz == nil: mhz = Double(parts[1])
            default: break
            }
        }
        avx2 = flags.contains("avx2")
        avx512f = flags.contains("avx512f")
        fma = flags.contains("fma")
        avx512SkylakeX = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
        modelName = model
        if let at = model.range(of: "@"), let ghz = Double(model[at.upperBound...].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "GHz", with: "")) {
            gigahertz = ghz
        } else {
            gigahertz = mhz.map { $0 / 1000 }
        }
    }
}
