// The vector kernels of cohort_conv.c, included once per instruction set with
// VEC, LANES, LOADU, SET1, FMA, ZERO, STOREU, HSUM, the forward blocking FOB (output
// channels) x FQV (vectors of positions), the weight-gradient blocking WOB (output
// channels) x WTB (taps), and SUFFIX naming the functions.

#define NAME2(a, b) a##_##b
#define NAME(a, b) NAME2(a, b)

static void NAME(forward, SUFFIX)(const float *planes, int count, int c, int h, int w, const float *packed, int o,
                                  int kh, int kw, int ph, int pw, const float *bias, int accumulate, float *y,
                                  float *scratch) {
    const struct geometry g = geometry_of(h, w, kh, kw, ph, pw);
    const int tile = FQV * LANES;
    const size_t rows = round_up((size_t)g.oh * g.wp, tile);
    const size_t taps = (size_t)c * kh * kw;
    for (int s = 0; s < count; s++) {
        const float *image = planes + (size_t)s * c * g.plane;
        for (int ob = 0; ob < o; ob += FOB) {
            const float *wb = packed + (size_t)(ob / FOB) * taps * FOB;
            for (size_t q0 = 0; q0 < rows; q0 += tile) {
                VEC acc[FOB][FQV];
#pragma clang loop unroll(full)
                for (int j = 0; j < FOB; j++)
#pragma clang loop unroll(full)
                    for (int v = 0; v < FQV; v++) acc[j][v] = ZERO();
                const float *wt = wb;
                for (int ci = 0; ci < c; ci++) {
                    const float *xc = image + (size_t)ci * g.plane + q0;
                    for (int ki = 0; ki < kh; ki++) {
                        const float *xr = xc + (size_t)ki * g.wp;
                        for (int kj = 0; kj < kw; kj++, wt += FOB) {
                            VEC x[FQV];
#pragma clang loop unroll(full)
                            for (int v = 0; v < FQV; v++) x[v] = LOADU(xr + kj + v * LANES);
#pragma clang loop unroll(full)
                            for (int j = 0; j < FOB; j++) {
                                const VEC b = SET1(wt[j]);
#pragma clang loop unroll(full)
                                for (int v = 0; v < FQV; v++) acc[j][v] = FMA(x[v], b, acc[j][v]);
                            }
                        }
                    }
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < FOB; j++)
#pragma clang loop unroll(full)
                    for (int v = 0; v < FQV; v++) STOREU(scratch + j * rows + q0 + v * LANES, acc[j][v]);
            }
            for (int j = 0; j < FOB && ob + j < o; j++) {
                float *out = y + ((size_t)s * o + ob + j) * g.oh * g.ow;
                const float *src = scratch + j * rows;
                const float b = bias ? bias[ob + j] : 0.0f;
                for (int oy = 0; oy < g.oh; oy++) {
                    float *d = out + (size_t)oy * g.ow;
                    const float *r = src + (size_t)oy * g.wp;
                    if (accumulate) {
                        for (int ox = 0; ox < g.ow; ox++) d[ox] += r[ox] + b;
                    } else {
                        for (int ox = 0; ox < g.ow; ox++) d[ox] = r[ox] + b;
                    }
                }
            }
        }
    }
}

static void NAME(weight_grad, SUFFIX)(const float *planes, const float *rows, size_t stride, int count, int c, int h,
                                      int w, int o, int kh, int kw, int ph, int pw, int o0, int o1, float *dw,
                                      float *partial) {
    const struct geometry g = geometry_of(h, w, kh, kw, ph, pw);
    const size_t length = g.rows;
    const int taps = c * kh * kw;
    const int tblocks = (taps + WTB - 1) / WTB;
    // Images in chunks small enough for the core's cache; each (channel, tap) keeps a
    // vector of partial sums across chunks, summed to a number at the end.
    const size_t bytes = ((size_t)c * g.plane + (size_t)o * stride) * sizeof(float);
    const int chunk = bytes >= (256u << 10) ? 1 : (int)((256u << 10) / bytes);
    for (int s0 = 0; s0 < count; s0 += chunk) {
        const int s1 = s0 + chunk < count ? s0 + chunk : count;
        for (int ob = o0; ob < o1; ob += WOB) {
            int channel[WOB];
            for (int j = 0; j < WOB; j++) channel[j] = ob + j < o1 ? ob + j : o1 - 1;
            for (int tb = 0; tb < tblocks; tb++) {
                const int t0 = tb * WTB;
                // Offsets of the block's taps in a padded image; taps past the end
                // repeat the last one and are not written back.
                size_t offset[WTB];
                for (int i = 0; i < WTB; i++) {
                    const int t = t0 + i < taps ? t0 + i : taps - 1;
                    const int ci = t / (kh * kw), r = t % (kh * kw);
                    offset[i] = (size_t)ci * g.plane + (size_t)(r / kw) * g.wp + (size_t)(r % kw);
                }
                float *sums = partial + ((size_t)((ob - o0) / WOB) * tblocks + tb) * WOB * WTB * LANES;
                VEC acc[WOB][WTB];
#pragma clang loop unroll(full)
                for (int j = 0; j < WOB; j++)
#pragma clang loop unroll(full)
                    for (int i = 0; i < WTB; i++) acc[j][i] = s0 == 0 ? ZERO() : LOADU(sums + (j * WTB + i) * LANES);
                for (int s = s0; s < s1; s++) {
                    const float *image = planes + (size_t)s * c * g.plane;
                    const float *dy[WOB];
                    for (int j = 0; j < WOB; j++) dy[j] = rows + ((size_t)s * o + channel[j]) * stride;
                    for (size_t q = 0; q < length; q += LANES) {
                        VEC d[WOB];
#pragma clang loop unroll(full)
                        for (int j = 0; j < WOB; j++) d[j] = LOADU(dy[j] + q);
#pragma clang loop unroll(full)
                        for (int i = 0; i < WTB; i++) {
                            const VEC x = LOADU(image + offset[i] + q);
#pragma clang loop unroll(full)
                            for (int j = 0; j < WOB; j++) acc[j][i] = FMA(d[j], x, acc[j][i]);
                        }
                    }
                }
                if (s1 < count) {
#pragma clang loop unroll(full)
                    for (int j = 0; j < WOB; j++)
#pragma clang loop unroll(full)
                        for (int i = 0; i < WTB; i++) STOREU(sums + (j * WTB + i) * LANES, acc[j][i]);
                } else {
                    for (int j = 0; j < WOB && ob + j < o1; j++)
                        for (int i = 0; i < WTB && t0 + i < taps; i++) dw[(size_t)(ob + j) * taps + t0 + i] += HSUM(acc[j][i]);
                }
            }
        }
    }
}

#undef NAME
#undef NAME2
