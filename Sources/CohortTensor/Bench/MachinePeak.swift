import CMachine
import Foundation

/// The single-precision peak the running BLAS kernel can reach here, measured rather
/// than assumed.
///
/// A formula (clock × FMA units × lanes) goes wrong both ways: cores differ in how many
/// 512-bit FMA units they have (AMD Zen 4 runs AVX-512 as two 256-bit halves, 32 FLOP a
/// cycle; Zen 5 and most Xeons have two full units, 64), and a busy core runs neither
/// at its nominal clock nor at one clock for every vector width. So the peak is what
/// independent fused multiply-adds of the kernel's vector width do on this machine, on
/// as many threads as the benchmark uses: the best of a few short runs, since another
/// process can only slow a run down.
public struct MachinePeak: Codable, Sendable {
    public let model: String
    public let cores: Int
    /// The nominal clock /proc/cpuinfo states, when it does.
    public let nominalMHz: Double?
    /// The clock of a busy core running scalar code, measured (0 where unmeasurable).
    public let busyMHz: Double
    /// The BLAS kernel OpenBLAS runs, and the vector width it computes with.
    public let kernel: String
    public let kernelVectorBits: Int
    /// GFLOP/s of one core doing 512-bit and 256-bit FMAs (0 where the CPU has none).
    public let fma512GFLOPS: Double
    public let fma256GFLOPS: Double
    /// The peak of one core for the running kernel's width.
    public let perCoreGFLOPS: Double
    /// How `perCoreGFLOPS` was found: "measured", or "estimated" for kernels without FMA.
    public let basis: String
    /// The `OPENBLAS_CORETYPE` whose vectors this CPU runs clearly faster, if any.
    public let fasterKernel: String?

    /// FLOP per cycle of the running kernel's width at the busy clock (AVX-512 may run
    /// at a lower clock, which shows here as fewer FLOP per cycle).
    public var flopsPerCycle: Double { busyMHz > 0 ? perCoreGFLOPS * 1000 / busyMHz : 0 }

    /// Measures this machine (about 0.4 s).
    public static func measure(kernel: String = BLASRuntime.coreName, cpu: CPUFeatures = .current) -> MachinePeak {
        let fma512 = cpu.avx512f ? gflops(bits: 512, threads: 1) : 0
        let fma256 = cpu.avx2 && cpu.fma ? gflops(bits: 256, threads: 1) : 0
        let bits = vectorBits(kernel: kernel)
        let (peak, basis) = kernelPeak(kernel: kernel, fma512: fma512, fma256: fma256)
        return MachinePeak(model: cpu.modelName, cores: ProcessInfo.processInfo.activeProcessorCount,
                           nominalMHz: cpu.gigahertz.map { $0 * 1000 }, busyMHz: busyClockHz() / 1e6,
                           kernel: kernel, kernelVectorBits: bits, fma512GFLOPS: fma512, fma256GFLOPS: fma256,
                           perCoreGFLOPS: peak, basis: basis,
                           fasterKernel: fasterKernel(than: peak, fma512: fma512, fma256: fma256, cpu: cpu))
    }

    /// The peak of `threads` threads at once for the running kernel's width, measured
    /// with all of them busy (threads sharing a core share its vector units).
    public func gflops(threads: Int) -> Double {
        guard threads > 1 else { return perCoreGFLOPS }
        switch (kernelVectorBits, basis) {
        case (512, "measured"): return Self.gflops(bits: 512, threads: threads)
        case (256, "measured"): return Self.gflops(bits: 256, threads: threads)
        default: return perCoreGFLOPS * Double(threads)
        }
    }

    /// The vector width each OpenBLAS kernel family computes sgemm with.
    public static func vectorBits(kernel: String) -> Int {
        switch kernel.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 512
        case "haswell", "zen", "sandybridge": return 256
        default: return 128
        }
    }

    /// A kernel's peak from the measured FMA rates: kernels with FMA reach the rate of
    /// their width; without FMA a multiply and an add issue separately, half the rate
    /// (Sandy Bridge's AVX), or a quarter with 128-bit SSE.
    static func kernelPeak(kernel: String, fma512: Double, fma256: Double) -> (Double, String) {
        switch (vectorBits(kernel: kernel), kernel.lowercased()) {
        case (512, _) where fma512 > 0: return (fma512, "measured")
        case (256, "sandybridge"): return (fma256 / 2, "estimated")
        case (256, _) where fma256 > 0: return (fma256, "measured")
        default: return (fma256 / 4, "estimated")
        }
    }

    /// The faster kernel family this CPU runs correctly, when its vectors measure at
    /// least 15% faster than the running kernel's peak.
    static func fasterKernel(than peak: Double, fma512: Double, fma256: Double, cpu: CPUFeatures) -> String? {
        var best: (name: String, gflops: Double)?
        if cpu.avx2 && cpu.fma && fma256 > 0 { best = ("Haswell", fma256) }
        // OpenBLAS's SkylakeX kernels use AVX-512 F, CD, BW, DQ and VL.
        if cpu.avx512SkylakeX && fma512 > (best?.gflops ?? 0) { best = ("SkylakeX", fma512) }
        guard let best, best.gflops > 1.15 * peak else { return nil }
        return best.name
    }

    static func gflops(bits: Int32, threads: Int) -> Double {
        guard threads > 0, threads <= 1024 else { return 0 }
        return (0..<8).map { _ in cohort_fma_flops(bits, Int32(threads), 0.02) }.max().map { $0 / 1e9 } ?? 0
    }

    static func busyClockHz() -> Double {
        (0..<5).map { _ in cohort_measured_clock_hz(0.01) }.max() ?? 0
    }

    /// One line for people: the kernel, its width, the measured peak, and advice.
    public var summary: String {
        var s = "BLAS kernel \(kernel) (\(kernelVectorBits)-bit vectors): peak \(String(format: "%.1f", perCoreGFLOPS)) GFLOP/s per core, \(basis)"
        if fma512GFLOPS > 0 || fma256GFLOPS > 0 {
            s += String(format: " (FMA per core: 512-bit %.1f, 256-bit %.1f GFLOP/s", fma512GFLOPS, fma256GFLOPS)
            if busyMHz > 0 { s += String(format: "; busy clock %.0f MHz", busyMHz) }
            s += ")"
        }
        if let fasterKernel {
            s += String(format: "; OPENBLAS_CORETYPE=%@ would compute with vectors %.1fx as fast", fasterKernel,
                        (fasterKernel == "SkylakeX" ? fma512GFLOPS : fma256GFLOPS) / perCoreGFLOPS)
        } else {
            s += "; no faster kernel for this CPU"
        }
        return s
    }
}
