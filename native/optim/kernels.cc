// Scalar, AVX2 and AVX-512 versions of the optimizer kernels, chosen once at load time by the CPU's features.
// The vector loops perform exactly the scalar loop's operations, lane by lane (see kernels.h).
#include "kernels.h"

#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace graft {
namespace {

inline double combine_lanes(const double* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

inline void adam_one(float* p, const float* g, float* m, float* v, const AdamScalars& s) {
  const float pi = *p, gi = *g + s.coupled * pi;
  const float mi = *m + (gi - *m) * s.one_minus_beta1;
  const float vi = *v * s.beta2 + (gi * gi) * s.one_minus_beta2;
  const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
  *m = mi;
  *v = vi;
  *p = pi * s.decay - s.step_size * (mi / denom);
}

inline void sgd_one(float* p, const float* g, float* buf, const SgdScalars& s) {
  const float d = *g + s.weight_decay * *p;
  if (!buf) {
    *p = *p - s.lr * d;
    return;
  }
  const float b = s.momentum * *buf + s.keep * d;
  *buf = b;
  *p = *p - s.lr * (s.nesterov != 0 ? d + s.momentum * b : b);
}

double sum_squares_scalar(const float* x, size_t n) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) lanes[i & 7] += static_cast<double>(x[i]) * x[i];
  return combine_lanes(lanes);
}

void scale_scalar(float* x, size_t n, float f) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] * f;
}

void adam_scalar(float* p, const float* g, float* m, float* v, size_t n, const AdamScalars& s) {
  for (size_t i = 0; i < n; i++) adam_one(p + i, g + i, m + i, v + i, s);
}

void sgd_scalar(float* p, const float* g, float* buf, size_t n, const SgdScalars& s) {
  for (size_t i = 0; i < n; i++) sgd_one(p + i, g + i, buf ? buf + i : nullptr, s);
}

__attribute__((target("avx2"))) double sum_squares_avx2(const float* x, size_t n) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
    lo = _mm256_add_pd(lo, _mm256_mul_pd(a, a));
    hi = _mm256_add_pd(hi, _mm256_mul_pd(b, b));
  }
  double lanes[8];
  _mm256_storeu_pd(lanes, lo);
  _mm256_storeu_pd(lanes + 4, hi);
  for (; i < n; i++) lanes[i & 7] += static_cast<double>(x[i]) * x[i];
  return combine_lanes(lanes);
}

__attribute__((target("avx2"))) void scale_avx2(float* x, size_t n, float f) {
  const __m256 k = _mm256_set1_ps(f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), k));
  for (; i < n; i++) x[i] = x[i] * f;
}

__attribute__((target("avx2"))) void adam_avx2(float* p, const float* g, float* m, float* v, size_t n,
                                               const AdamScalars& s) {
  const __m256 decay = _mm256_set1_ps(s.decay), coupled = _mm256_set1_ps(s.coupled);
  const __m256 b1c = _mm256_set1_ps(s.one_minus_beta1), beta2 = _mm256_set1_ps(s.beta2);
  const __m256 b2c = _mm256_set1_ps(s.one_minus_beta2), step = _mm256_set1_ps(s.step_size);
  const __m256 bc2 = _mm256_set1_ps(s.bc2_sqrt), eps = _mm256_set1_ps(s.eps);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 P = _mm256_loadu_ps(p + i), M = _mm256_loadu_ps(m + i), V = _mm256_loadu_ps(v + i);
    const __m256 G = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(coupled, P));
    const __m256 mi = _mm256_add_ps(M, _mm256_mul_ps(_mm256_sub_ps(G, M), b1c));
    const __m256 vi = _mm256_add_ps(_mm256_mul_ps(V, beta2), _mm256_mul_ps(_mm256_mul_ps(G, G), b2c));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_mul_ps(P, decay), _mm256_mul_ps(step, _mm256_div_ps(mi, denom))));
  }
  for (; i < n; i++) adam_one(p + i, g + i, m + i, v + i, s);
}

__attribute__((target("avx2"))) void sgd_avx2(float* p, const float* g, float* buf, size_t n, const SgdScalars& s) {
  const __m256 lr = _mm256_set1_ps(s.lr), wd = _mm256_set1_ps(s.weight_decay);
  const __m256 mu = _mm256_set1_ps(s.momentum), keep = _mm256_set1_ps(s.keep);
  const bool nesterov = s.nesterov != 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 P = _mm256_loadu_ps(p + i);
    const __m256 d = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(wd, P));
    __m256 u = d;
    if (buf) {
      const __m256 b = _mm256_add_ps(_mm256_mul_ps(mu, _mm256_loadu_ps(buf + i)), _mm256_mul_ps(keep, d));
      _mm256_storeu_ps(buf + i, b);
      u = nesterov ? _mm256_add_ps(d, _mm256_mul_ps(mu, b)) : b;
    }
    _mm256_storeu_ps(p + i, _mm256_sub_ps(P, _mm256_mul_ps(lr, u)));
  }
  for (; i < n; i++) sgd_one(p + i, g + i, buf ? buf + i : nullptr, s);
}

__attribute__((target("avx512f"))) double sum_squares_avx512(const float* x, size_t n) {
  __m512d acc = _mm512_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d a = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
    acc = _mm512_add_pd(acc, _mm512_mul_pd(a, a));
  }
  double lanes[8];
  _mm512_storeu_pd(lanes, acc);
  for (; i < n; i++) lanes[i & 7] += static_cast<double>(x[i]) * x[i];
  return combine_lanes(lanes);
}

__attribute__((target("avx512f"))) void scale_avx512(float* x, size_t n, float f) {
  const __m512 k = _mm512_set1_ps(f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), k));
  for (; i < n; i++) x[i] = x[i] * f;
}

__attribute__((target("avx512f"))) void adam_avx512(float* p, const float* g, float* m, float* v, size_t n,
                                                    const AdamScalars& s) {
  const __m512 decay = _mm512_set1_ps(s.decay), coupled = _mm512_set1_ps(s.coupled);
  const __m512 b1c = _mm512_set1_ps(s.one_minus_beta1), beta2 = _mm512_set1_ps(s.beta2);
  const __m512 b2c = _mm512_set1_ps(s.one_minus_beta2), step = _mm512_set1_ps(s.step_size);
  const __m512 bc2 = _mm512_set1_ps(s.bc2_sqrt), eps = _mm512_set1_ps(s.eps);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 P = _mm512_loadu_ps(p + i), M = _mm512_loadu_ps(m + i), V = _mm512_loadu_ps(v + i);
    const __m512 G = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(coupled, P));
    const __m512 mi = _mm512_add_ps(M, _mm512_mul_ps(_mm512_sub_ps(G, M), b1c));
    const __m512 vi = _mm512_add_ps(_mm512_mul_ps(V, beta2), _mm512_mul_ps(_mm512_mul_ps(G, G), b2c));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), eps);
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    _mm512_storeu_ps(p + i, _mm512_sub_ps(_mm512_mul_ps(P, decay), _mm512_mul_ps(step, _mm512_div_ps(mi, denom))));
  }
  for (; i < n; i++) adam_one(p + i, g + i, m + i, v + i, s);
}

__attribute__((target("avx512f"))) void sgd_avx512(float* p, const float* g, float* buf, size_t n, const SgdScalars& s) {
  const __m512 lr = _mm512_set1_ps(s.lr), wd = _mm512_set1_ps(s.weight_decay);
  const __m512 mu = _mm512_set1_ps(s.momentum), keep = _mm512_set1_ps(s.keep);
  const bool nesterov = s.nesterov != 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 P = _mm512_loadu_ps(p + i);
    const __m512 d = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(wd, P));
    __m512 u = d;
    if (buf) {
      const __m512 b = _mm512_add_ps(_mm512_mul_ps(mu, _mm512_loadu_ps(buf + i)), _mm512_mul_ps(keep, d));
      _mm512_storeu_ps(buf + i, b);
      u = nesterov ? _mm512_add_ps(d, _mm512_mul_ps(mu, b)) : b;
    }
    _mm512_storeu_ps(p + i, _mm512_sub_ps(P, _mm512_mul_ps(lr, u)));
  }
  for (; i < n; i++) sgd_one(p + i, g + i, buf ? buf + i : nullptr, s);
}

Isa detect() {
  __builtin_cpu_init();
  // GRAFT_OPTIM_ISA=scalar|avx2 narrows the choice (tests compare the paths).
  if (const char* force = std::getenv("GRAFT_OPTIM_ISA")) {
    if (std::strcmp(force, "scalar") == 0) return Isa::kScalar;
    if (std::strcmp(force, "avx2") == 0 && __builtin_cpu_supports("avx2")) return Isa::kAvx2;
  }
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
  return Isa::kScalar;
}

const Isa kIsa = detect();

}  // namespace

Isa active_isa() { return kIsa; }

double chunk_sum_squares(const float* x, size_t n) {
  switch (kIsa) {
    case Isa::kAvx512: return sum_squares_avx512(x, n);
    case Isa::kAvx2: return sum_squares_avx2(x, n);
    default: return sum_squares_scalar(x, n);
  }
}

void scale(float* x, size_t n, float factor) {
  switch (kIsa) {
    case Isa::kAvx512: return scale_avx512(x, n, factor);
    case Isa::kAvx2: return scale_avx2(x, n, factor);
    default: return scale_scalar(x, n, factor);
  }
}

void adam(float* p, const float* g, float* m, float* v, size_t n, const AdamScalars& s) {
  switch (kIsa) {
    case Isa::kAvx512: return adam_avx512(p, g, m, v, n, s);
    case Isa::kAvx2: return adam_avx2(p, g, m, v, n, s);
    default: return adam_scalar(p, g, m, v, n, s);
  }
}

void sgd(float* p, const float* g, float* buf, size_t n, const SgdScalars& s) {
  switch (kIsa) {
    case Isa::kAvx512: return sgd_avx512(p, g, buf, n, s);
    case Isa::kAvx2: return sgd_avx2(p, g, buf, n, s);
    default: return sgd_scalar(p, g, buf, n, s);
  }
}

const char* isa_name() {
  switch (kIsa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace graft
