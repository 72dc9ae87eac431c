#ifndef COHORT_MACHINE_H
#define COHORT_MACHINE_H

/// Measurements of the core this thread runs on, for the peak that benchmarks compare
/// with. Each runs for about `seconds` and returns 0 where it cannot measure (not x86-64,
/// or the vector extension is absent).

/// The clock in Hz while this core is busy: a chain of dependent integer adds, one per
/// cycle on every x86-64 core of the last fifteen years.
double cohort_measured_clock_hz(double seconds);

/// Single-precision FLOP/s of `threads` threads at once, each doing independent fused
/// multiply-adds with `bits`-wide vectors (512: AVX-512F, 256: AVX2 + FMA): the real
/// peak of a BLAS kernel of that width on that many threads, including any clock the
/// cores drop to for it and cores that share their vector units.
double cohort_fma_flops(int bits, int threads, double seconds);

#endif
