// Depthwise 2-D convolution (one k_h x k_w filter per channel, NCHW float32, any strides and pads, dilation 1):
// the forward pass and both gradients, for graft's training graphs (src/runtime/native-ops.ts). Each image
// plane is first copied into a zero-padded buffer split by column phase (column p of the padded row goes to
// phase p mod stride_w, index p div stride_w), so every tap of every output row reads one contiguous run of
// floats: the inner loops have no bounds checks and vectorise for any stride (AVX-512, AVX2 or plain x86-64,
// chosen at load time by the compiler's function multi-versioning). Small planes (output rows narrower than 16,
// 16 channels or more) run channels-last instead: each image is transposed to [row][column][channel], so every
// tap is one multiply-add over all channels.
#pragma once

#include <cstddef>

namespace graft {

struct DepthwiseGeometry {
  int n, c, h, w;          // input [n, c, h, w]
  int kh, kw;              // kernel [c, 1, kh, kw]
  int sh, sw;              // strides
  int pt, pl, pb, pr;      // pads: top, left, bottom, right
  int ho, wo;              // output spatial size (derived)
};

// Fills ho and wo; false when the geometry is impossible (non-positive sizes, output empty).
bool depthwise_resolve(DepthwiseGeometry* g);

// y[n, c] = sum over taps of w[c] * x[n, c] (+ bias[c] when bias is not null).
void depthwise_forward(const DepthwiseGeometry& g, const float* x, const float* w, const float* bias, float* y,
                       int threads);

// dx = the adjoint of the forward pass (wrt x) applied to dy.
void depthwise_grad_input(const DepthwiseGeometry& g, const float* dy, const float* w, float* dx, int threads);

// dw[c, 0, i, j] = sum over n, output positions of dy * the input value under tap (i, j); sums per image row in
// float, across rows and images in double.
void depthwise_grad_weight(const DepthwiseGeometry& g, const float* x, const float* dy, float* dw, int threads);

// "avx512", "avx2" or "scalar": the widest vector extension the multi-versioned loops use here.
const char* depthwise_isa();

}  // namespace graft
