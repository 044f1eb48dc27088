// The linear softmax objective, two ways. With AVX-512 (the weight given transposed): tiles of 12 rows, each
// row's logits for 16 classes in one vector, built from broadcasts of its features; then the softmax; then the
// gradient's rows [d, 16 classes] accumulate the tile's 12 rows. Otherwise: groups of 16 rows. A group's logits are summed over slices of 256 columns, so
// one slice of every class's weights (10 classes: 10 KB) and of the group's rows (16 KB) stay in L1 while they
// meet; then the softmax; then the weight gradient over the same slices. Within a slice, 4 rows × C classes of
// accumulators (registers) make each loaded vector serve several products.
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
      for (size_t c = 0; c < k; c++) strided[c * kTile] = zr[c];
      *loss += softmax_row(strided.data(), k, p.bias, label, p.smoothing, exps.data());
      for (size_t c = 0; c < k; c++) {
        zr[c] = strided[c * kTile];
        grad_bias[c] += zr[c];
      }
    }
    for (size_t from = 0; from < d; from += kSlice)
      for (size_t t = 0; t < tiles; t++)
        for (size_t b = 0; b < kp; b += kClassBlock)
          gradient_avx512(x + t * kRows512, z.data() + t * kRows512 * kp + b, kp, from,
                          std::min(d, from + kSlice), gt + b);
  }
  return true;
}

}  // namespace

size_t padded_classes(size_t k) { return (k + kClassBlock - 1) / kClassBlock * kClassBlock; }

bool prefers_transposed_weight(size_t k) {
  return active_isa() == Isa::kAvx512 && 10 * k >= 6 * padded_classes(k);
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

void shifted_column_sums(const float* x, size_t n, size_t d, size_t from, size_t to, double* sum, double* squares) {
  for (size_t i = 0; i < n; i++) {
    const float* row = x + i * d;
    for (size_t j = from; j < to; j++) {
      const double offset = static_cast<double>(row[j]) - static_cast<double>(x[j]);
      sum[j] += offset;
      squares[j] += offset * offset;
    }
  }
}

void standardize_rows(const float* x, const float* mean, const float* std, float* out, size_t d, size_t begin,
                      size_t end) {
  for (size_t i = begin * d; i < end * d; i += d)
    for (size_t j = 0; j < d; j++) out[i + j] = (x[i + j] - mean[j]) / std[j];
}

}  // namespace graft
