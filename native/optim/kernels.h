// Optimizer kernels over float32 parameters: sums of squares (for gradient-norm clipping), in-place scaling,
// the Adam/AdamW update and the SGD update (with or without momentum). Every float operation rounds as one IEEE
// single-precision operation (the build turns floating-point contraction off), so the SIMD paths, the scalar path
// and graft's TypeScript fallback (src/train/optimizers/kernels.ts) give bit-identical results; the sums of squares
// fix their order (below).
#pragma once

#include <cstddef>

namespace graft {

// Elements per chunk of a sum of squares (a multiple of 8).
constexpr size_t kSumChunk = 1 << 16;

// Sum of x[i]^2 over one chunk (n <= kSumChunk), in double: element i goes to lane i mod 8, and the lanes
// are combined as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). A tensor's sum is its chunks' sums
// added in order.
double chunk_sum_squares(const float* x, size_t n);

// x[i] = x[i] * factor.
void scale(float* x, size_t n, float factor);

// Per-tensor constants of one Adam step, each already rounded to float32 by the caller.
struct AdamScalars {
  float decay;      // AdamW: 1 - lr * weight_decay; Adam: 1
  float coupled;    // Adam: weight_decay (added to the gradient as coupled * p); AdamW: 0
  float one_minus_beta1;
  float beta2;
  float one_minus_beta2;
  float step_size;  // lr / (1 - beta1^t)
  float bc2_sqrt;   // sqrt(1 - beta2^t)
  float eps;
};
constexpr size_t kAdamScalars = 8;

// One Adam step over n elements, in place on p, m (first moment) and v (second moment):
//   gi = g + coupled * p;  m = m + (gi - m) * (1 - beta1);  v = v * beta2 + (gi * gi) * (1 - beta2)
//   p = p * decay - step_size * (m / (sqrt(v) / bc2_sqrt + eps))
void adam(float* p, const float* g, float* m, float* v, size_t n, const AdamScalars& s);

// Per-tensor constants of one SGD step, each already rounded to float32 by the caller.
struct SgdScalars {
  float lr;
  float weight_decay;  // coupled: added to the gradient as weight_decay * p
  float momentum;
  float keep;      // 1 - dampening; 1 on a parameter's first step (its buffer then starts as the gradient)
  float nesterov;  // 1: Nesterov momentum; 0: classic
};
constexpr size_t kSgdScalars = 5;

// One SGD step over n elements, in place on p and buf (the momentum buffer; null for plain SGD):
//   d = g + weight_decay * p
//   plain: p = p - lr * d
//   momentum: b = momentum * buf + keep * d;  buf = b;  p = p - lr * (nesterov ? d + momentum * b : b)
void sgd(float* p, const float* g, float* buf, size_t n, const SgdScalars& s);

// The instruction sets graft's optimizer and solver kernels choose from, once, by the CPU's features;
// GRAFT_OPTIM_ISA=scalar|avx2 narrows the choice (tests compare the paths).
enum class Isa { kScalar, kAvx2, kAvx512 };
Isa active_isa();

// The instruction set the kernels use here: "avx512", "avx2" or "scalar".
const char* isa_name();

}  // namespace graft
