@testable import CohortTensor
import XCTest

/// The peak benchmarks compare with: kernel widths, which measured rate is a kernel's
/// peak, and when a faster kernel is worth naming.
final class MachinePeakTests: XCTestCase {
    private func cpu(_ flags: String) -> CPUFeatures {
        CPUFeatures(cpuinfo: "model name\t: Test CPU @ 2.00GHz\nflags\t\t: \(flags)\n")
    }
    private let skylakeFlags = "fma avx2 avx512f avx512cd avx512bw avx512dq avx512vl"

    func testKernelWidths() {
        XCTAssertEqual(MachinePeak.vectorBits(kernel: "SkylakeX"), 512)
        XCTAssertEqual(MachinePeak.vectorBits(kernel: "COOPERLAKE"), 512)
        XCTAssertEqual(MachinePeak.vectorBits(kernel: "Haswell"), 256)
        XCTAssertEqual(MachinePeak.vectorBits(kernel: "Zen"), 256)
        XCTAssertEqual(MachinePeak.vectorBits(kernel: "Prescott"), 128)
    }

    func testAKernelsPeakIsTheMeasuredRateOfItsWidth() {
        XCTAssertEqual(MachinePeak.kernelPeak(kernel: "SkylakeX", fma512: 130, fma256: 80).0, 130)
        XCTAssertEqual(MachinePeak.kernelPeak(kernel: "Haswell", fma512: 130, fma256: 80).0, 80)
        XCTAssertEqual(MachinePeak.kernelPeak(kernel: "SandyBridge", fma512: 0, fma256: 80).0, 40)
        XCTAssertEqual(MachinePeak.kernelPeak(kernel: "Prescott", fma512: 130, fma256: 80).1, "estimated")
        XCTAssertEqual(MachinePeak.kernelPeak(kernel: "Prescott", fma512: 130, fma256: 80).0, 20)
    }

    func testAFasterKernelIsNamedOnlyWhenItsVectorsMeasureClearlyFaster() {
        // Two 512-bit FMA units (Zen 5, most Xeons) under the Haswell kernel: AVX-512 doubles the rate.
        XCTAssertEqual(MachinePeak.fasterKernel(than: 80, fma512: 160, fma256: 80, cpu: cpu(skylakeFlags)), "SkylakeX")
        // Zen 4: 512-bit FMAs run as two halves, no faster than 256-bit ones.
        XCTAssertNil(MachinePeak.fasterKernel(than: 80, fma512: 82, fma256: 80, cpu: cpu(skylakeFlags)))
        XCTAssertNil(MachinePeak.fasterKernel(than: 82, fma512: 82, fma256: 80, cpu: cpu(skylakeFlags)))
        // AVX-512F alone is not enough for OpenBLAS's SkylakeX kernels.
        XCTAssertNil(MachinePeak.fasterKernel(than: 80, fma512: 160, fma256: 80, cpu: cpu("fma avx2 avx512f")))
        // The generic fallback kernel on an AVX2 machine.
        XCTAssertEqual(MachinePeak.fasterKernel(than: 20, fma512: 0, fma256: 80, cpu: cpu("fma avx2")), "Haswell")
    }

    func testCPUFlagsAndNominalClockAreRead() {
        let c = cpu(skylakeFlags)
        XCTAssertTrue(c.avx512SkylakeX && c.avx512f && c.avx2 && c.fma)
        XCTAssertEqual(c.gigahertz, 2.0)
        XCTAssertFalse(cpu("fma avx2").avx512SkylakeX)
    }

    func testThisMachineMeasuresTheRatesItsFlagsPromise() {
        let here = CPUFeatures.current
        let peak = MachinePeak.measure()
        XCTAssertEqual(peak.fma512GFLOPS > 0, here.avx512f)
        XCTAssertEqual(peak.fma256GFLOPS > 0, here.avx2 && here.fma)
        XCTAssertGreaterThan(peak.perCoreGFLOPS, 0)
        XCTAssertTrue(peak.summary.hasPrefix("BLAS kernel \(BLASRuntime.coreName) (\(peak.kernelVectorBits)-bit vectors)"), peak.summary)
    }
}
