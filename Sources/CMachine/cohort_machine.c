#include "cohort_machine.h"
#include <pthread.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
#include <immintrin.h>

double cohort_measured_clock_hz(double seconds) {
    // Register operands: some cores fold chains of immediate adds at rename, faster
    // than one a cycle.
    unsigned long long x = 0, one = 1, adds = 0;
    double start = now_seconds(), elapsed = 0;
    do {
        for (int i = 0; i < 10000; i++) {
            __asm__ volatile(
                "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                : "+r"(x) : "r"(one));
        }
        adds += 10000ULL * 16;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    return x == adds ? (double)adds / elapsed : 0;
}

// Twelve independent accumulators cover an FMA latency of 4 to 6 cycles on two units.
#define FMA_LOOP(type, fma, set1, add, lanes)                                              \
    type a0 = set1(1.0f), a1 = set1(1.0f), a2 = set1(1.0f), a3 = set1(1.0f);              \
    type a4 = set1(1.0f), a5 = set1(1.0f), a6 = set1(1.0f), a7 = set1(1.0f);              \
    type a8 = set1(1.0f), a9 = set1(1.0f), a10 = set1(1.0f), a11 = set1(1.0f);            \
    const type m = set1(0.999999f), c = set1(1e-7f);                                       \
    unsigned long long rounds = 0;                                                         \
    double start = now_seconds(), elapsed = 0;                                             \
    do {                                                                                   \
        for (int i = 0; i < 4096; i++) {                                                   \
            a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);     \
            a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);     \
            a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c); \
            __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5)); \
        }                                                                                  \
        rounds += 4096;                                                                    \
        elapsed = now_seconds() - start;                                                   \
    } while (elapsed < seconds);                                                           \
    type sum = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));         \
    sum = add(sum, add(add(a8, a9), add(a10, a11)));                                       \
    float out[lanes];                                                                      \
    (void)out;

__attribute__((target("avx512f")))
static double fma_flops_avx512(double seconds) {
    if (!__builtin_cpu_supports("avx512f")) return 0;
    FMA_LOOP(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, 16)
    _mm512_storeu_ps(out, sum);
    // The sum is used so that no accumulator can be optimised away.
    return out[0] != out[0] ? 0 : (double)rounds * 12 * 16 * 2 / elapsed;
}

__attribute__((target("avx2,fma")))
static double fma_flops_avx2(double seconds) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    FMA_LOOP(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, 8)
    _mm256_storeu_ps(out, sum);
    return out[0] != out[0] ? 0 : (double)rounds * 12 * 8 * 2 / elapsed;
}

struct fma_task { int bits; double seconds; double flops; };

static void *fma_thread(void *arg) {
    struct fma_task *task = arg;
    task->flops = task->bits == 512 ? fma_flops_avx512(task->seconds) : task->bits == 256 ? fma_flops_avx2(task->seconds) : 0;
    return NULL;
}

double cohort_fma_flops(int bits, int threads, double seconds) {
    if (threads < 1 || threads > 1024) return 0;
    struct fma_task tasks[1024];
    pthread_t ids[1024];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        tasks[i] = (struct fma_task){bits, seconds, 0};
        if (i > 0 && pthread_create(&ids[i], NULL, fma_thread, &tasks[i]) != 0) break;
        started = i + 1;
    }
    fma_thread(&tasks[0]);
    double total = tasks[0].flops;
    for (int i = 1; i < started; i++) {
        pthread_join(ids[i], NULL);
        total += tasks[i].flops;
    }
    return started == threads ? total : 0;
}

#else
double cohort_measured_clock_hz(double seconds) { (void)seconds; return 0; }
double cohort_fma_flops(int bits, int threads, double seconds) { (void)bits; (void)threads; (void)seconds; return 0; }
#endif
