#ifndef COHORT_CONV_H
#define COHORT_CONV_H
#include <stddef.h>

/// Direct stride-1 convolution kernels with register blocking (AVX-512 or AVX2 + FMA,
/// chosen at run time), for the tensor core's conv2d.
///
/// Layout: images are NCHW. A channel is first copied into a zero-padded plane of
/// row length Wp = w + 2 pw, so that output position q = oy * Wp + ox reads input
/// q + ki * Wp + kj for every tap: all taps are contiguous vector loads, and the
/// Wp - ow columns past each output row are computed and thrown away.

/// Vector lanes of the kernels this CPU runs (16 or 8), or 0: no vector path.
int cohort_conv_lanes(void);

/// Uses vectors of at most `lanes` (16, 8 or 0) from now on, so that tests reach every
/// path on one machine; returns the lanes now used. Call it before any convolution
/// runs, never while one does; packed weights and scratch sizes follow it.
int cohort_conv_limit_lanes(int lanes);

/// Floats of one padded plane (with the slack vector loads read past its end).
size_t cohort_conv_plane(int h, int w, int kh, int kw, int ph, int pw);

/// Floats of the packed weights of `o` output channels.
size_t cohort_conv_packed_weight_size(int o, int c, int kh, int kw);

/// Packs weight [o][c][kh][kw] for the forward kernel. With `adjoint` it packs the
/// weight of the input gradient instead, from a weight [c][o][kh][kw] (so `o` and `c`
/// are dX's output and input channels): channels swapped and taps flipped, so that
/// dX is the forward kernel applied to dY padded by (kh-1-ph, kw-1-pw).
void cohort_conv_pack_weight(const float *weight, int o, int c, int kh, int kw, int adjoint, float *packed);

/// Copies `count` images of `c` channels into zero-padded planes (count * c planes).
void cohort_conv_pad(const float *x, int count, int c, int h, int w, int kh, int kw, int ph, int pw, float *planes);

/// Floats of scratch the forward kernel needs for one image.
size_t cohort_conv_forward_scratch(int c, int h, int w, int o, int kh, int kw, int ph, int pw);

/// y[s][oc] = (accumulate ? y[s][oc] : 0) + bias[oc] + correlation of image s with the
/// weight, for `count` images whose padded planes are `planes` (count * c of them).
/// `bias` may be NULL.
void cohort_conv_forward(const float *planes, int count, int c, int h, int w, const float *packed, int o,
                         int kh, int kw, int ph, int pw, const float *bias, int accumulate, float *y,
                         float *scratch);

/// Floats of dY laid out as padded output rows (row length Wp, zero past each row), per
/// output channel of one image.
size_t cohort_conv_output_plane(int h, int w, int kh, int kw, int ph, int pw);

/// Lays out `count` images of dY [o][oh][ow] as padded output rows (count * o of them).
void cohort_conv_pad_output(const float *dy, int count, int o, int h, int w, int kh, int kw, int ph, int pw,
                            float *rows);

/// Floats of scratch the weight gradient needs (for any range of output channels).
size_t cohort_conv_weight_grad_scratch(int o, int c, int kh, int kw);

/// dW[oc][ci][ki][kj] += sum over images and positions of dY * x, for output channels
/// [o0, o1), summed in one fixed order whatever the range, from the padded planes of
/// x and the padded rows of dY, one channel every `stride` floats. With "same" padding
/// (k - 1 = 2 p on both axes) the planes of dY the input gradient pads are such rows
/// already, `cohort_conv_adjoint_rows` floats into each plane.
void cohort_conv_weight_grad(const float *planes, const float *rows, size_t stride, int count, int c, int h, int w,
                             int o, int kh, int kw, int ph, int pw, int o0, int o1, float *dw, float *scratch);

/// Where dY's rows start in the planes the input gradient pads dY into, when those
/// planes can serve as the weight gradient's rows ("same" padding); -1 otherwise.
long cohort_conv_adjoint_rows(int w, int kh, int kw, int ph, int pw);

#endif
