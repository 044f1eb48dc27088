// The linear softmax objective, three ways. With AVX-512, classes in vector lanes where they fill them (the weight
// given transposed; 16 or 32 classes): tiles of 12 rows, each row's logits for 16 classes in one vector, built from
// broadcasts of its features; then the softmax; then the gradient's rows [d, 16 classes] accumulate the tile's 12
// rows. Otherwise with AVX-512, columns in lanes: groups of 48 rows; the logits of 4 rows × 5 classes at a time as
// 20 vectors of column products, summed across lanes at the end of each slice of 512 columns; then the softmax;
// then the weight gradient 32 columns × up to 10 classes at a time in registers, over the group's rows (now in
// cache). Otherwise (AVX2): groups of 16 rows. A group's logits are summed over slices of 256 columns, so one slice
// of every class's weights (10 classes: 10 KB) and of the group's rows (16 KB) stay in L1 while they meet; then the
// softmax; then the weight gradient over the same slices. Within a slice, 4 rows × C classes of accumulators
// (registers) make each loaded vector serve several products.
#include "softmax_regression.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace graft {
namespace {

constexpr size_t kTile = 4;       // rows per register tile
constexpr size_t kGroup = 4;      // tiles per group
constexpr size_t kSlice = 256;    // columns per slice

// A tile's rows and the columns [from, to) of a slice.
struct TileSlice {
  const float* const* x;  // kTile row pointers
  size_t from;
  size_t to;
};

// out[c][r] += Σ_{j in slice} w[c][j] · x[r][j] for every class c; w is [k, stride].
using DotTile = void (*)(const float* w, size_t stride, size_t k, const TileSlice& s, float* out);
// g[c][j] += Σ_r coef[c][r] · x[r][j] for every class c and j in the slice; g is [k, stride].
using AxpyTile = void (*)(float* g, size_t stride, size_t k, const float* coef, const TileSlice& s);

void dot_tile_scalar(const float* w, size_t stride, size_t k, const TileSlice& s, float* out) {
  for (size_t c = 0; c < k; c++)
    for (size_t r = 0; r < kTile; r++) {
      float sum = 0;
      for (size_t j = s.from; j < s.to; j++) sum += w[c * stride + j] * s.x[r][j];
      out[c * kTile + r] += sum;
    }
}

void axpy_tile_scalar(float* g, size_t stride, size_t k, const float* coef, const TileSlice& s) {
  for (size_t c = 0; c < k; c++) {
    const float* k4 = coef + c * kTile;
    for (size_t j = s.from; j < s.to; j++)
      g[c * stride + j] += k4[0] * s.x[0][j] + k4[1] * s.x[1][j] + k4[2] * s.x[2][j] + k4[3] * s.x[3][j];
  }
}

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// Classes [0, C) of w (already offset to the block's first class): C × kTile accumulators.
template <int C>
__attribute__((target("avx2,fma"))) void dot_block_avx2(const float* w, size_t stride, const TileSlice& s,
                                                       float* out) {
  const float* const* x = s.x;
  __m256 acc[C][kTile];
  for (int c = 0; c < C; c++)
    for (size_t r = 0; r < kTile; r++) acc[c][r] = _mm256_setzero_ps();
  size_t j = s.from;
  for (; j + 8 <= s.to; j += 8) {
    const __m256 x0 = _mm256_loadu_ps(x[0] + j), x1 = _mm256_loadu_ps(x[1] + j), x2 = _mm256_loadu_ps(x[2] + j),
                 x3 = _mm256_loadu_ps(x[3] + j);
    for (int c = 0; c < C; c++) {
      const __m256 wj = _mm256_loadu_ps(w + c * stride + j);
      acc[c][0] = _mm256_fmadd_ps(wj, x0, acc[c][0]);
      acc[c][1] = _mm256_fmadd_ps(wj, x1, acc[c][1]);
      acc[c][2] = _mm256_fmadd_ps(wj, x2, acc[c][2]);
      acc[c][3] = _mm256_fmadd_ps(wj, x3, acc[c][3]);
    }
  }
  for (int c = 0; c < C; c++)
    for (size_t r = 0; r < kTile; r++) {
      float sum = hsum(acc[c][r]);
      for (size_t t = j; t < s.to; t++) sum += w[c * stride + t] * x[r][t];
      out[c * kTile + r] += sum;
    }
}

__attribute__((target("avx2,fma"))) void dot_tile_avx2(const float* w, size_t stride, size_t k,
                                                      const TileSlice& s, float* out) {
  size_t c = 0;
  for (; c + 3 <= k; c += 3) dot_block_avx2<3>(w + c * stride, stride, s, out + c * kTile);
  if (k - c == 2) dot_block_avx2<2>(w + c * stride, stride, s, out + c * kTile);
  if (k - c == 1) dot_block_avx2<1>(w + c * stride, stride, s, out + c * kTile);
}

// Classes [0, C) of g and coef (already offset): each loaded vector of a row serves C classes.
template <int C>
__attribute__((target("avx2,fma"))) void axpy_block_avx2(float* g, size_t stride, const float* coef,
                                                        const TileSlice& s) {
  const float* const* x = s.x;
  __m256 cf[C][kTile];
  for (int c = 0; c < C; c++)
    for (size_t r = 0; r < kTile; r++) cf[c][r] = _mm256_set1_ps(coef[c * kTile + r]);
  size_t j = s.from;
  for (; j + 8 <= s.to; j += 8) {
    const __m256 x0 = _mm256_loadu_ps(x[0] + j), x1 = _mm256_loadu_ps(x[1] + j), x2 = _mm256_loadu_ps(x[2] + j),
                 x3 = _mm256_loadu_ps(x[3] + j);
    for (int c = 0; c < C; c++) {
      float* gj = g + c * stride + j;
      __m256 acc = _mm256_loadu_ps(gj);
      acc = _mm256_fmadd_ps(cf[c][0], x0, acc);
      acc = _mm256_fmadd_ps(cf[c][1], x1, acc);
      acc = _mm256_fmadd_ps(cf[c][2], x2, acc);
      acc = _mm256_fmadd_ps(cf[c][3], x3, acc);
      _mm256_storeu_ps(gj, acc);
    }
  }
  for (int c = 0; c < C; c++) {
    const float* k4 = coef + c * kTile;
    for (size_t t = j; t < s.to; t++)
      g[c * stride + t] += k4[0] * x[0][t] + k4[1] * x[1][t] + k4[2] * x[2][t] + k4[3] * x[3][t];
  }
}

__attribute__((target("avx2,fma"))) void axpy_tile_avx2(float* g, size_t stride, size_t k, const float* coef,
                                                       const TileSlice& s) {
  size_t c = 0;
  for (; c + 2 <= k; c += 2) axpy_block_avx2<2>(g + c * stride, stride, coef + c * kTile, s);
  if (c < k) axpy_block_avx2<1>(g + c * stride, stride, coef + c * kTile, s);
}

// One row's logits z[c] (strided by kTile) → its loss term; z becomes softmax − target. e: scratch of k doubles.
double softmax_row(float* z, size_t k, const float* bias, int32_t label, double smoothing, double* e) {
  const double off_target = smoothing / static_cast<double>(k);
  double top = -INFINITY, logit_sum = 0;
  for (size_t c = 0; c < k; c++) {
    const float zc = z[c * kTile] + bias[c];
    z[c * kTile] = zc;
    top = std::max(top, static_cast<double>(zc));
    logit_sum += zc;
  }
  double denom = 0;
  for (size_t c = 0; c < k; c++) denom += (e[c] = std::exp(z[c * kTile] - top));
  const double loss = top + std::log(denom) - (1 - smoothing) * z[label * kTile] - off_target * logit_sum;
  for (size_t c = 0; c < k; c++) {
    const double target = off_target + (c == static_cast<size_t>(label) ? 1 - smoothing : 0);
    z[c * kTile] = static_cast<float>(e[c] / denom - target);
  }
  return loss;
}

// softmax_row for logits held contiguously (zr[c]); adds softmax − target to grad_bias. strided: scratch of
// k · kTile floats.
double softmax_contiguous(float* zr, size_t k, const LinearSoftmaxProblem& p, int32_t label, float* strided,
                          double* exps, float* grad_bias) {
  for (size_t c = 0; c < k; c++) strided[c * kTile] = zr[c];
  const double loss = softmax_row(strided, k, p.bias, label, p.smoothing, exps);
  for (size_t c = 0; c < k; c++) {
    zr[c] = strided[c * kTile];
    grad_bias[c] += zr[c];
  }
  return loss;
}

constexpr size_t kClassBlock = 16;  // classes per AVX-512 vector
constexpr size_t kRows512 = 12;     // rows per AVX-512 tile

// Logits of one tile for one block of 16 classes over columns [from, to), added to z (rows of kp floats).
__attribute__((target("avx512f"))) inline void logits_avx512(const float* const* x, const float* wt, size_t kp,
                                                            size_t from, size_t to, float* z) {
  __m512 acc[kRows512];
#pragma GCC unroll 12
  for (size_t r = 0; r < kRows512; r++) acc[r] = _mm512_loadu_ps(z + r * kp);
  for (size_t j = from; j < to; j++) {
    const __m512 wj = _mm512_loadu_ps(wt + j * kp);
#pragma GCC unroll 12
    for (size_t r = 0; r < kRows512; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r][j]), wj, acc[r]);
  }
#pragma GCC unroll 12
  for (size_t r = 0; r < kRows512; r++) _mm512_storeu_ps(z + r * kp, acc[r]);
}

// gt[j] += Σ_r x[r][j] · coef[r] for columns [from, to) and one block of 16 classes (coef: rows of kp floats).
__attribute__((target("avx512f"))) inline void gradient_avx512(const float* const* x, const float* coef,
                                                              size_t kp, size_t from, size_t to, float* gt) {
  __m512 c[kRows512];
#pragma GCC unroll 12
  for (size_t r = 0; r < kRows512; r++) c[r] = _mm512_loadu_ps(coef + r * kp);
  for (size_t j = from; j < to; j++) {
    __m512 even = _mm512_loadu_ps(gt + j * kp), odd = _mm512_setzero_ps();
#pragma GCC unroll 6
    for (size_t r = 0; r < kRows512; r += 2) {
      even = _mm512_fmadd_ps(_mm512_set1_ps(x[r][j]), c[r], even);
      odd = _mm512_fmadd_ps(_mm512_set1_ps(x[r + 1][j]), c[r + 1], odd);
    }
    _mm512_storeu_ps(gt + j * kp, _mm512_add_ps(even, odd));
  }
}

// Rows [begin, end) from the transposed weight (kp columns), in groups of kGroup tiles of kRows512 rows: the
// logits over slices of kSlice columns (a slice of the weight, 16 KB per block of classes, stays in L1 while
// the group's tiles meet it), the softmax per row, then the gradient rows gt [d, kp] over the same slices.
__attribute__((target("avx512f"))) bool rows_avx512(const LinearSoftmaxProblem& p, size_t begin, size_t end,
                                                   float* gt, float* grad_bias, double* loss) {
  const size_t k = p.k, d = p.d, kp = padded_classes(k);
  constexpr size_t kGroupRows = kGroup * kRows512;
  std::vector<float> z(kGroupRows * kp);  // the group's logits, then softmax − target, per row [kp]
  std::vector<float> strided(k * kTile);
  std::vector<double> exps(k);
  for (size_t start = begin; start < end; start += kGroupRows) {
    const size_t rows = std::min(kGroupRows, end - start);
    const size_t tiles = (rows + kRows512 - 1) / kRows512;
    // a short tile repeats the group's last row, with zero coefficients
    const float* x[kGroupRows];
    for (size_t r = 0; r < tiles * kRows512; r++) x[r] = p.x + (start + std::min(r, rows - 1)) * d;
    std::fill(z.begin(), z.end(), 0.0f);
    for (size_t from = 0; from < d; from += kSlice)
      for (size_t t = 0; t < tiles; t++)
        for (size_t b = 0; b < kp; b += kClassBlock)
          logits_avx512(x + t * kRows512, p.weight_t + b, kp, from, std::min(d, from + kSlice),
                        z.data() + t * kRows512 * kp + b);
    for (size_t r = 0; r < tiles * kRows512; r++) {
      float* zr = z.data() + r * kp;
      if (r >= rows) {
        std::fill(zr, zr + kp, 0.0f);
        continue;
      }
      const int32_t label = p.labels[start + r];
      if (label < 0 || static_cast<size_t>(label) >= k) return false;
      *loss += softmax_contiguous(zr, k, p, label, strided.data(), exps.data(), grad_bias);
    }
    for (size_t from = 0; from < d; from += kSlice)
      for (size_t t = 0; t < tiles; t++)
        for (size_t b = 0; b < kp; b += kClassBlock)
          gradient_avx512(x + t * kRows512, z.data() + t * kRows512 * kp + b, kp, from,
                          std::min(d, from + kSlice), gt + b);
  }
  return true;
}


// ---- AVX-512, columns in lanes ----

constexpr size_t kColRows = 4;      // rows per logits tile
constexpr size_t kColClasses = 5;   // classes per logits block
constexpr size_t kColGroup = 48;    // rows per group: their logits, softmax and gradient in turn
constexpr size_t kColSlice = 512;   // columns per logits slice
constexpr size_t kGradClasses = 10; // classes per gradient block

__attribute__((target("avx512f"))) inline __mmask16 lanes_below(size_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << count) - 1);
}

// acc[r][c] += x[r][j..j+16) · w[c][j..j+16), lanes outside m zero.
template <int R, int C>
__attribute__((target("avx512f"), always_inline)) inline void logits_step(const float* const* x, const float* w,
                                                                         size_t d, size_t j, __mmask16 m,
                                                                         __m512 (&acc)[R][C]) {
  __m512 xv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) xv[r] = _mm512_maskz_loadu_ps(m, x[r] + j);
#pragma GCC unroll 8
  for (int c = 0; c < C; c++) {
    const __m512 wv = _mm512_maskz_loadu_ps(m, w + c * d + j);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r][c] = _mm512_fmadd_ps(xv[r], wv, acc[r][c]);
  }
}

// z[r · k + c] += Σ_{j ∈ [from, to)} x[r][j] · w[c][j] for R rows and C classes (w offset to the block's first).
template <int R, int C>
__attribute__((target("avx512f"))) void logits_block(const float* const* x, const float* w, size_t d, size_t from,
                                                    size_t to, float* z, size_t k) {
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
  size_t j = from;
  for (; j + 16 <= to; j += 16) logits_step<R, C>(x, w, d, j, static_cast<__mmask16>(0xffff), acc);
  if (j < to) logits_step<R, C>(x, w, d, j, lanes_below(to - j), acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) z[r * k + c] += _mm512_reduce_add_ps(acc[r][c]);
}

// Every class's logits for R rows, kColClasses classes at a time.
template <int R>
__attribute__((target("avx512f"))) void logits_rows(const float* const* x, const float* w, size_t d, size_t k,
                                                   size_t from, size_t to, float* z) {
  size_t c = 0;
  for (; c + kColClasses <= k; c += kColClasses) logits_block<R, kColClasses>(x, w + c * d, d, from, to, z + c, k);
  switch (k - c) {
    case 4: logits_block<R, 4>(x, w + c * d, d, from, to, z + c, k); break;
    case 3: logits_block<R, 3>(x, w + c * d, d, from, to, z + c, k); break;
    case 2: logits_block<R, 2>(x, w + c * d, d, from, to, z + c, k); break;
    case 1: logits_block<R, 1>(x, w + c * d, d, from, to, z + c, k); break;
    default: break;
  }
}

// g[c][j] += Σ_r coef[r · k + c] · x[r][j] for C classes (g and coef offset to the block's first), 32 columns at a
// time held in registers over all the rows.
template <int C>
__attribute__((target("avx512f"))) void gradient_block(const float* const* x, size_t rows, const float* coef,
                                                      size_t k, float* g, size_t d) {
  for (size_t j = 0; j < d; j += 32) {
    const __mmask16 m0 = lanes_below(d - j), m1 = d - j > 16 ? lanes_below(d - j - 16) : 0;
    __m512 a0[C], a1[C];
#pragma GCC unroll 10
    for (int c = 0; c < C; c++) {
      a0[c] = _mm512_maskz_loadu_ps(m0, g + c * d + j);
      a1[c] = _mm512_maskz_loadu_ps(m1, g + c * d + j + 16);
    }
    for (size_t r = 0; r < rows; r++) {
      const __m512 x0 = _mm512_maskz_loadu_ps(m0, x[r] + j), x1 = _mm512_maskz_loadu_ps(m1, x[r] + j + 16);
      const float* cr = coef + r * k;
#pragma GCC unroll 10
      for (int c = 0; c < C; c++) {
        const __m512 cc = _mm512_set1_ps(cr[c]);
        a0[c] = _mm512_fmadd_ps(cc, x0, a0[c]);
        a1[c] = _mm512_fmadd_ps(cc, x1, a1[c]);
      }
    }
#pragma GCC unroll 10
    for (int c = 0; c < C; c++) {
      _mm512_mask_storeu_ps(g + c * d + j, m0, a0[c]);
      _mm512_mask_storeu_ps(g + c * d + j + 16, m1, a1[c]);
    }
  }
}

__attribute__((target("avx512f"))) void gradient_rows(const float* const* x, size_t rows, const float* coef, size_t k,
                                                     float* g, size_t d) {
  size_t c = 0;
  for (; c + kGradClasses <= k; c += kGradClasses)
    gradient_block<kGradClasses>(x, rows, coef + c, k, g + c * d, d);
  const float* cf = coef + c;
  float* gc = g + c * d;
  switch (k - c) {
    case 9: gradient_block<9>(x, rows, cf, k, gc, d); break;
    case 8: gradient_block<8>(x, rows, cf, k, gc, d); break;
    case 7: gradient_block<7>(x, rows, cf, k, gc, d); break;
    case 6: gradient_block<6>(x, rows, cf, k, gc, d); break;
    case 5: gradient_block<5>(x, rows, cf, k, gc, d); break;
    case 4: gradient_block<4>(x, rows, cf, k, gc, d); break;
    case 3: gradient_block<3>(x, rows, cf, k, gc, d); break;
    case 2: gradient_block<2>(x, rows, cf, k, gc, d); break;
    case 1: gradient_block<1>(x, rows, cf, k, gc, d); break;
    default: break;
  }
}

// Rows [begin, end) with columns in lanes, kColGroup rows at a time: logits, softmax per row, weight gradient.
__attribute__((target("avx512f"))) bool rows_columns_avx512(const LinearSoftmaxProblem& p, size_t begin, size_t end,
                                                           float* grad_weight, float* grad_bias, double* loss) {
  const size_t k = p.k, d = p.d;
  std::vector<float> z(kColGroup * k);  // the group's logits, then softmax − target, per row [k]
  std::vector<float> strided(k * kTile);
  std::vector<double> exps(k);
  for (size_t start = begin; start < end; start += kColGroup) {
    const size_t rows = std::min(kColGroup, end - start);
    const float* x[kColGroup];
    for (size_t r = 0; r < rows; r++) x[r] = p.x + (start + r) * d;
    std::fill(z.begin(), z.begin() + rows * k, 0.0f);
    for (size_t from = 0; from < d; from += kColSlice) {
      const size_t to = std::min(d, from + kColSlice);
      size_t r = 0;
      for (; r + kColRows <= rows; r += kColRows)
        logits_rows<kColRows>(x + r, p.weight, d, k, from, to, z.data() + r * k);
      for (; r < rows; r++) logits_rows<1>(x + r, p.weight, d, k, from, to, z.data() + r * k);
    }
    for (size_t r = 0; r < rows; r++) {
      float* zr = z.data() + r * k;
      const int32_t label = p.labels[start + r];
      if (label < 0 || static_cast<size_t>(label) >= k) return false;
      *loss += softmax_contiguous(zr, k, p, label, strided.data(), exps.data(), grad_bias);
    }
    gradient_rows(x, rows, z.data(), k, grad_weight, d);
  }
  return true;
}

}  // namespace

size_t padded_classes(size_t k) { return (k + kClassBlock - 1) / kClassBlock * kClassBlock; }

bool prefers_transposed_weight(size_t k) {
  return active_isa() == Isa::kAvx512 && 10 * k >= 9 * padded_classes(k);
}

void transpose_weight(const float* weight, size_t k, size_t d, float* out) {
  const size_t kp = padded_classes(k);
  for (size_t j = 0; j < d; j++)
    for (size_t c = 0; c < kp; c++) out[j * kp + c] = c < k ? weight[c * d + j] : 0.0f;
}

bool softmax_regression_rows(const LinearSoftmaxProblem& p, size_t begin, size_t end, float* grad_weight,
                             float* grad_bias, double* loss) {
  if (p.weight_t && active_isa() == Isa::kAvx512) {
    const size_t kp = padded_classes(p.k);
    std::vector<float> gt(p.d * kp, 0.0f);
    if (!rows_avx512(p, begin, end, gt.data(), grad_bias, loss)) return false;
    for (size_t c = 0; c < p.k; c++)
      for (size_t j = 0; j < p.d; j++) grad_weight[c * p.d + j] += gt[j * kp + c];
    return true;
  }
  if (active_isa() == Isa::kAvx512) return rows_columns_avx512(p, begin, end, grad_weight, grad_bias, loss);
  const bool simd = active_isa() != Isa::kScalar && __builtin_cpu_supports("fma");
  const DotTile dot = simd ? dot_tile_avx2 : dot_tile_scalar;
  const AxpyTile axpy = simd ? axpy_tile_avx2 : axpy_tile_scalar;
  const size_t k = p.k, d = p.d;
  // per tile of the group: logits, then softmax − target, as [k][kTile]
  std::vector<float> coef(kGroup * k * kTile);
  std::vector<double> exps(k);
  for (size_t start = begin; start < end; start += kGroup * kTile) {
    const size_t rows = std::min(kGroup * kTile, end - start);
    const size_t tiles = (rows + kTile - 1) / kTile;
    // a short tile repeats the group's last row, with zero coefficients
    const float* x[kGroup][kTile];
    for (size_t t = 0; t < tiles; t++)
      for (size_t r = 0; r < kTile; r++) x[t][r] = p.x + (start + std::min(t * kTile + r, rows - 1)) * d;
    std::fill(coef.begin(), coef.end(), 0.0f);
    for (size_t from = 0; from < d; from += kSlice)
      for (size_t t = 0; t < tiles; t++)
        dot(p.weight, d, k, {x[t], from, std::min(d, from + kSlice)}, coef.data() + t * k * kTile);
    for (size_t i = 0; i < tiles * kTile; i++) {
      float* z = coef.data() + (i / kTile) * k * kTile + i % kTile;
      if (i >= rows) {
        for (size_t c = 0; c < k; c++) z[c * kTile] = 0;
        continue;
      }
      const int32_t label = p.labels[start + i];
      if (label < 0 || static_cast<size_t>(label) >= k) return false;
      *loss += softmax_row(z, k, p.bias, label, p.smoothing, exps.data());
    }
    for (size_t from = 0; from < d; from += kSlice)
      for (size_t t = 0; t < tiles; t++)
        axpy(grad_weight, d, k, coef.data() + t * k * kTile, {x[t], from, std::min(d, from + kSlice)});
    for (size_t t = 0; t < tiles; t++)
      for (size_t c = 0; c < k; c++) {
        const float* c4 = coef.data() + (t * k + c) * kTile;
        grad_bias[c] += (c4[0] + c4[1]) + (c4[2] + c4[3]);
      }
  }
  return true;
}

// Both passes below are per-element operations that GCC vectorises along the columns; the clones give it wide
// vectors where the CPU has them (each element still meets the same operations in the same order).
#define GRAFT_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

GRAFT_VECTOR_CLONES void shifted_column_sums(const float* x, size_t n, size_t d, size_t from, size_t to, double* sum,
                                             double* squares) {
  for (size_t i = 0; i < n; i++) {
    const float* row = x + i * d;
    for (size_t j = from; j < to; j++) {
      const double offset = static_cast<double>(row[j]) - static_cast<double>(x[j]);
      sum[j] += offset;
      squares[j] += offset * offset;
    }
  }
}

GRAFT_VECTOR_CLONES void standardize_rows(const float* x, const float* mean, const float* std, float* out, size_t d,
                                          size_t begin, size_t end) {
  for (size_t i = begin * d; i < end * d; i += d)
    for (size_t j = 0; j < d; j++) out[i + j] = (x[i + j] - mean[j]) / std[j];
}

}  // namespace graft
