import Foundation

/// The machine's theoretical single-precision peak per core, estimated from
/// /proc/cpuinfo: clock × FLOP per cycle.
///
/// Assumption: cores with AVX-512 have two 512-bit FMA units (Skylake-SP Gold/Platinum
/// and later Xeons), 16 lanes × 2 FLOP (multiply + add) × 2 units = 64 FLOP/cycle; AVX2
/// with FMA: two 256-bit units, 32; otherwise SSE, 8. The clock is the "cpu MHz" the
/// kernel reports (nominal on virtual machines); turbo can push measurements above it.
public struct MachinePeak: Codable, Sendable {
    public let model: String
    public let clockMHz: Double
    public let flopsPerCycle: Int
    public let vectorISA: String
    public let cores: Int

    /// GFLOP/s of one core.
    public var perCoreGFLOPS: Double { clockMHz * Double(flopsPerCycle) / 1000 }

    public static func estimate(cpuinfo path: String = "/proc/cpuinfo") -> MachinePeak {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        func field(_ key: String) -> String? {
            for line in text.split(separator: "\n") where line.hasPrefix(key) {
                if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let (isa, perCycle): (String, Int) =
            flags.contains("avx512f") ? ("AVX-512", 64) : flags.contains("fma") ? ("AVX2+FMA", 32) : ("SSE", 8)
        let cores = text.split(separator: "\n").filter { $0.hasPrefix("processor") }.count
        return MachinePeak(model: field("model name") ?? "unknown", clockMHz: Double(field("cpu MHz") ?? "") ?? 0,
                           flopsPerCycle: perCycle, vectorISA: isa, cores: max(cores, 1))
    }
}
