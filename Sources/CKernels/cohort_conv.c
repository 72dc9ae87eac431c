#include "cohort_conv.h"
#include <string.h>

struct geometry {
    int hp, wp, oh, ow;
    size_t plane;  // floats of one padded input plane, slack included
    size_t rows;   // floats of one channel of dY as padded rows
};

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static struct geometry geometry_of(int h, int w, int kh, int kw, int ph, int pw) {
    struct geometry g;
    g.hp = h + 2 * ph;
    g.wp = w + 2 * pw;
    g.oh = g.hp - kh + 1;
    g.ow = g.wp - kw + 1;
    // A forward tile (at most 64 positions) starting below oh * wp reads up to
    // hp * wp + 64 + kw floats into the plane.
    g.plane = round_up((size_t)g.hp * g.wp + 64 + (size_t)kw, 16);
    g.rows = round_up((size_t)g.oh * g.wp, 16);
    return g;
}

size_t cohort_conv_plane(int h, int w, int kh, int kw, int ph, int pw) { return geometry_of(h, w, kh, kw, ph, pw).plane; }
size_t cohort_conv_output_plane(int h, int w, int kh, int kw, int ph, int pw) { return geometry_of(h, w, kh, kw, ph, pw).rows; }

void cohort_conv_pad(const float *x, int count, int c, int h, int w, int kh, int kw, int ph, int pw, float *planes) {
    const struct geometry g = geometry_of(h, w, kh, kw, ph, pw);
    for (size_t p = 0; p < (size_t)count * c; p++) {
        float *plane = planes + p * g.plane;
        const float *src = x + p * h * w;
        // Zeros where no pixel goes: the top rows, the borders between rows, the bottom
        // rows and the slack.
        float *at = plane;
        for (int iy = 0; iy < h; iy++) {
            float *row = plane + (size_t)(iy + ph) * g.wp + pw;
            memset(at, 0, (size_t)(row - at) * sizeof(float));
            memcpy(row, src + (size_t)iy * w, (size_t)w * sizeof(float));
            at = row + w;
        }
        memset(at, 0, (size_t)(plane + g.plane - at) * sizeof(float));
    }
}

void cohort_conv_pad_output(const float *dy, int count, int o, int h, int w, int kh, int kw, int ph, int pw, float *rows) {
    const struct geometry g = geometry_of(h, w, kh, kw, ph, pw);
    for (size_t p = 0; p < (size_t)count * o; p++) {
        float *row = rows + p * g.rows;
        const float *src = dy + p * g.oh * g.ow;
        for (int oy = 0; oy < g.oh; oy++) {
            float *r = row + (size_t)oy * g.wp;
            memcpy(r, src + (size_t)oy * g.ow, (size_t)g.ow * sizeof(float));
            memset(r + g.ow, 0, (size_t)(g.wp - g.ow) * sizeof(float));
        }
        memset(row + (size_t)g.oh * g.wp, 0, (g.rows - (size_t)g.oh * g.wp) * sizeof(float));
    }
}

long cohort_conv_adjoint_rows(int w, int kh, int kw, int ph, int pw) {
    if (kh - 1 != 2 * ph || kw - 1 != 2 * pw) return -1;
    // The adjoint pads dY [oh][ow] by (kh-1-ph, kw-1-pw) = (ph, pw): row length
    // ow + 2 pw = w + 2 pw, that of x's planes, and the zeros after each row (its right
    // border, the next row's left one) where the rows layout has them.
    return (long)ph * (w + 2 * pw) + pw;
}

#if defined(__x86_64__)
#include <immintrin.h>

static int forward_block(void);

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define VEC __m512
#define LANES 16
#define LOADU _mm512_loadu_ps
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ZERO _mm512_setzero_ps
#define STOREU _mm512_storeu_ps
#define HSUM _mm512_reduce_add_ps
#define FOB 8
#define FQV 3
#define WOB 4
#define WTB 6
#define SUFFIX avx512
#include "conv_kernel_body.h"
#undef VEC
#undef LANES
#undef LOADU
#undef SET1
#undef FMA
#undef ZERO
#undef STOREU
#undef HSUM
#undef FOB
#undef FQV
#undef WOB
#undef WTB
#undef SUFFIX
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
#define VEC __m256
#define LANES 8
#define LOADU _mm256_loadu_ps
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ZERO _mm256_setzero_ps
#define STOREU _mm256_storeu_ps
#define HSUM hsum256
#define FOB 4
#define FQV 3
#define WOB 3
#define WTB 4
#define SUFFIX avx2
#include "conv_kernel_body.h"
#undef VEC
#undef LANES
#undef LOADU
#undef SET1
#undef FMA
#undef ZERO
#undef STOREU
#undef HSUM
#undef FOB
#undef FQV
#undef WOB
#undef WTB
#undef SUFFIX
#pragma clang attribute pop

static int supported_lanes(void) {
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}

static int chosen_lanes = -1;

int cohort_conv_lanes(void) {
    if (chosen_lanes < 0) chosen_lanes = supported_lanes();
    return chosen_lanes;
}

int cohort_conv_limit_lanes(int lanes) {
    const int best = supported_lanes();
    chosen_lanes = lanes >= 16 ? best : lanes >= 8 && best >= 8 ? 8 : 0;
    return chosen_lanes;
}

static int forward_block(void) { return cohort_conv_lanes() == 16 ? 8 : 4; }

size_t cohort_conv_packed_weight_size(int o, int c, int kh, int kw) {
    const int block = forward_block();
    return round_up((size_t)o, block) * c * kh * kw;
}

void cohort_conv_pack_weight(const float *weight, int o, int c, int kh, int kw, int adjoint, float *packed) {
    const int block = forward_block();
    const size_t taps = (size_t)c * kh * kw;
    const size_t blocks = round_up((size_t)o, block) / block;
    for (size_t b = 0; b < blocks; b++)
        for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                    for (int j = 0; j < block; j++) {
                        const size_t oc = b * block + j;
                        float value = 0;
                        if (oc < (size_t)o) {
                            // adjoint: output channel oc of dX is input channel oc of the
                            // weight, input channel ci is its output channel, taps flipped.
                            value = adjoint ? weight[(((size_t)ci * o + oc) * kh + (kh - 1 - ki)) * kw + (kw - 1 - kj)]
                                            : weight[((oc * c + ci) * kh + ki) * kw + kj];
                        }
                        packed[(b * taps + ((size_t)ci * kh + ki) * kw + kj) * block + j] = value;
                    }
}

size_t cohort_conv_forward_scratch(int c, int h, int w, int o, int kh, int kw, int ph, int pw) {
    (void)c; (void)o;
    const struct geometry g = geometry_of(h, w, kh, kw, ph, pw);
    // At most 8 channels of padded output rows, rounded up to a whole tile (at most 64).
    return 8 * (round_up((size_t)g.oh * g.wp, 16) + 64);
}

void cohort_conv_forward(const float *planes, int count, int c, int h, int w, const float *packed, int o,
                         int kh, int kw, int ph, int pw, const float *bias, int accumulate, float *y,
                         float *scratch) {
    if (cohort_conv_lanes() == 16) forward_avx512(planes, count, c, h, w, packed, o, kh, kw, ph, pw, bias, accumulate, y, scratch);
    else forward_avx2(planes, count, c, h, w, packed, o, kh, kw, ph, pw, bias, accumulate, y, scratch);
}

void cohort_conv_weight_grad(const float *planes, const float *rows, size_t stride, int count, int c, int h, int w,
                             int o, int kh, int kw, int ph, int pw, int o0, int o1, float *dw, float *scratch) {
    if (cohort_conv_lanes() == 16) weight_grad_avx512(planes, rows, stride, count, c, h, w, o, kh, kw, ph, pw, o0, o1, dw, scratch);
    else weight_grad_avx2(planes, rows, stride, count, c, h, w, o, kh, kw, ph, pw, o0, o1, dw, scratch);
}

size_t cohort_conv_weight_grad_scratch(int o, int c, int kh, int kw) {
    // Vectors of partial sums for blocks of at most 4 channels x 6 taps (AVX-512; 3 x 4 with AVX2).
    return (round_up((size_t)o, 3) + 4) * round_up((size_t)c * kh * kw + 6, 6) * 16;
}

#else
int cohort_conv_lanes(void) { return 0; }
int cohort_conv_limit_lanes(int lanes) { (void)lanes; return 0; }
size_t cohort_conv_packed_weight_size(int o, int c, int kh, int kw) { (void)o; (void)c; (void)kh; (void)kw; return 0; }
void cohort_conv_pack_weight(const float *weight, int o, int c, int kh, int kw, int adjoint, float *packed) {
    (void)weight; (void)o; (void)c; (void)kh; (void)kw; (void)adjoint; (void)packed;
}
size_t cohort_conv_forward_scratch(int c, int h, int w, int o, int kh, int kw, int ph, int pw) {
    (void)c; (void)h; (void)w; (void)o; (void)kh; (void)kw; (void)ph; (void)pw; return 0;
}
void cohort_conv_forward(const float *planes, int count, int c, int h, int w, const float *packed, int o,
                         int kh, int kw, int ph, int pw, const float *bias, int accumulate, float *y,
                         float *scratch) {
    (void)planes; (void)count; (void)c; (void)h; (void)w; (void)packed; (void)o; (void)kh; (void)kw; (void)ph; (void)pw;
    (void)bias; (void)accumulate; (void)y; (void)scratch;
}
size_t cohort_conv_weight_grad_scratch(int o, int c, int kh, int kw) { (void)o; (void)c; (void)kh; (void)kw; return 0; }
void cohort_conv_weight_grad(const float *planes, const float *rows, size_t stride, int count, int c, int h, int w,
                             int o, int kh, int kw, int ph, int pw, int o0, int o1, float *dw, float *scratch) {
    (void)stride; (void)scratch; (void)planes; (void)rows; (void)count; (void)c; (void)h; (void)w; (void)o; (void)kh; (void)kw; (void)ph; (void)pw;
    (void)o0; (void)o1; (void)dw;
}
#endif
