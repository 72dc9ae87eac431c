import Foundation

/// The machine's theoretical single-precision peak per core: clock × FLOP per cycle.
///
/// Assumptions (stated in `cohort bench tensor`'s output): the clock is the nominal one
/// /proc/cpuinfo reports ("@ x GHz" in the model name, else "cpu MHz"; on virtual
/// machines the host's nominal clock), and the core has two FMA units, each doing a
/// multiply and an add on every lane: 64 FLOP/cycle with AVX-512, 32 with AVX2+FMA
/// (`CPUFeatures.float32FlopsPerCycle`). Turbo clocks can push measurements above it.
public struct MachinePeak: Codable, Sendable {
    public let model: String
    public let clockMHz: Double
    public let flopsPerCycle: Int
    public let vectorISA: String
    public let cores: Int

    /// GFLOP/s of one core.
    public var perCoreGFLOPS: Double { clockMHz * Double(flopsPerCycle) / 1000 }

    public static func estimate(_ cpu: CPUFeatures = .current) -> MachinePeak {
        MachinePeak(model: cpu.modelName, clockMHz: (cpu.gigahertz ?? 0) * 1000,
                    flopsPerCycle: Int(cpu.float32FlopsPerCycle),
                    vectorISA: cpu.avx512f ? "AVX-512" : cpu.avx2 && cpu.fma ? "AVX2+FMA" : "SSE",
                    cores: ProcessInfo.processInfo.activeProcessorCount)
    }
}
