#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GRAFT_AVX2 1
#endif

namespace graft {

namespace {

constexpr int kOne = 1 << kWeightBits;
constexpr int kHalf = 1 << (kWeightBits - 1);

inline uint8_t level(int32_t acc) {
  return static_cast<uint8_t>(std::clamp(acc >> kWeightBits, 0, 255));
}

}  // namespace

Filter make_filter(int src, int dst, int first, int count, Kernel kernel) {
  // Real-valued taps first: output o reads source positions lo[o] .. lo[o] + width - 1 (unclamped).
  const double scale = static_cast<double>(src) / dst;
  int width = 1;
  std::vector<int> lo(count);
  std::vector<double> w;
  if (kernel == Kernel::Nearest || src == dst) {
    w.assign(count, 1.0);
    for (int o = 0; o < count; o++)
      lo[o] = kernel == Kernel::Nearest ? static_cast<int>(std::floor((first + o + 0.5) * scale)) : first + o;
  } else {
    // The triangle covers the open interval (centre - support, centre + support): at most
    // ceil(2 * support) source pixels.
    const double support = std::max(1.0, scale);
    width = static_cast<int>(std::ceil(2 * support));
    w.resize(static_cast<size_t>(count) * width);
    for (int o = 0; o < count; o++) {
      const double centre = (first + o + 0.5) * scale - 0.5;
      lo[o] = static_cast<int>(std::floor(centre - support)) + 1;
      double* wo = &w[static_cast<size_t>(o) * width];
      double sum = 0;
      for (int k = 0; k < width; k++) {
        const double d = std::abs(lo[o] + k - centre) / support;
        wo[k] = d < 1 ? 1 - d : 0;
        sum += wo[k];
      }
      for (int k = 0; k < width; k++) wo[k] /= sum;
    }
  }
  // Then a window of `taps` positions inside the axis per output, each clamped tap's weight moved onto
  // the position it was clamped to, quantised so the weights sum to exactly kOne.
  Filter f;
  f.taps = std::min(width, src);
  f.start.resize(count);
  f.weight.assign(static_cast<size_t>(count) * f.taps, 0);
  std::vector<double> folded(f.taps);
  for (int o = 0; o < count; o++) {
    const int s = std::clamp(lo[o], 0, src - f.taps);
    f.start[o] = s;
    std::fill(folded.begin(), folded.end(), 0.0);
    for (int k = 0; k < width; k++)
      folded[std::clamp(lo[o] + k, 0, src - 1) - s] += w[static_cast<size_t>(o) * width + k];
    int16_t* q = &f.weight[static_cast<size_t>(o) * f.taps];
    int total = 0, largest = 0;
    for (int k = 0; k < f.taps; k++) {
      q[k] = static_cast<int16_t>(std::lround(folded[k] * kOne));
      total += q[k];
      if (q[k] > q[largest]) largest = k;
    }
    q[largest] = static_cast<int16_t>(q[largest] + kOne - total);
  }
  return f;
}

namespace {

// Horizontal pass over one RGBX row: `count` RGBX output pixels. `pairs` holds each output's weights
// two taps at a time (low 16 bits: even tap, high: odd tap; a zero odd weight pads an odd tap count).
// NP > 0 fixes the number of pairs at compile time (unrolled for the common filters); NP = 0 reads it
// from `npairs`.
template <int NP>
void horizontal(const uint8_t* row, const Filter& f, const int32_t* pairs, int npairs_any, int count,
                uint8_t* out, int first = 0) {
  const int npairs = NP > 0 ? NP : npairs_any;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (int x = 0; x < count; x++) {
    const uint8_t* p = row + static_cast<size_t>(f.start[first + x]) * 4;
    const int32_t* w = pairs + static_cast<size_t>(x) * npairs;
    __m128i acc = _mm_set1_epi32(kHalf);
    for (int k = 0; k < npairs; k++) {
      __m128i px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8 * k));
      px = _mm_unpacklo_epi8(px, zero);                     // r0 g0 b0 x0 r1 g1 b1 x1 (16-bit)
      px = _mm_unpacklo_epi16(px, _mm_srli_si128(px, 8));   // r0 r1 g0 g1 b0 b1 x0 x1
      acc = _mm_add_epi32(acc, _mm_madd_epi16(px, _mm_set1_epi32(w[k])));
    }
    acc = _mm_srai_epi32(acc, kWeightBits);
    acc = _mm_packus_epi16(_mm_packs_epi32(acc, acc), zero);
    const int32_t v = _mm_cvtsi128_si32(acc);
    std::memcpy(out + 4 * x, &v, 4);
  }
#else
  for (int x = 0; x < count; x++) {
    const uint8_t* p = row + static_cast<size_t>(f.start[first + x]) * 4;
    const int32_t* w = pairs + static_cast<size_t>(x) * npairs;
    int32_t acc[4] = {kHalf, kHalf, kHalf, kHalf};
    for (int k = 0; k < npairs; k++) {
      const int32_t w0 = static_cast<int16_t>(w[k] & 0xffff), w1 = static_cast<int16_t>(w[k] >> 16);
      for (int c = 0; c < 4; c++) acc[c] += w0 * p[8 * k + c] + w1 * p[8 * k + 4 + c];
    }
    for (int c = 0; c < 4; c++) out[4 * x + c] = level(acc[c]);
  }
#endif
}

#if GRAFT_AVX2
// The same arithmetic as horizontal<NP>, two output pixels per 256-bit step (one per 128-bit lane).
template <int NP>
__attribute__((target("avx2"))) void horizontal_avx2(const uint8_t* row, const Filter& f, const int32_t* pairs,
                                                     int npairs_any, int count, uint8_t* out) {
  const int npairs = NP > 0 ? NP : npairs_any;
  const __m256i zero = _mm256_setzero_si256();
  int x = 0;
  for (; x + 2 <= count; x += 2) {
    const uint8_t* p0 = row + static_cast<size_t>(f.start[x]) * 4;
    const uint8_t* p1 = row + static_cast<size_t>(f.start[x + 1]) * 4;
    const int32_t* w0 = pairs + static_cast<size_t>(x) * npairs;
    const int32_t* w1 = w0 + npairs;
    __m256i acc = _mm256_set1_epi32(kHalf);
    for (int k = 0; k < npairs; k++) {
      __m256i px = _mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0 + 8 * k))),
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p1 + 8 * k)), 1);
      px = _mm256_unpacklo_epi8(px, zero);
      px = _mm256_unpacklo_epi16(px, _mm256_srli_si256(px, 8));
      const __m256i w = _mm256_setr_epi32(w0[k], w0[k], w0[k], w0[k], w1[k], w1[k], w1[k], w1[k]);
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(px, w));
    }
    acc = _mm256_srai_epi32(acc, kWeightBits);
    acc = _mm256_packus_epi16(_mm256_packs_epi32(acc, acc), zero);
    const int32_t v0 = _mm256_cvtsi256_si32(acc);
    const int32_t v1 = _mm_cvtsi128_si32(_mm256_extracti128_si256(acc, 1));
    std::memcpy(out + 4 * x, &v0, 4);
    std::memcpy(out + 4 * x + 4, &v1, 4);
  }
  if (x < count) horizontal<NP>(row, f, pairs + static_cast<size_t>(x) * npairs, npairs_any, count - x, out + 4 * x, x);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

void horizontal_any(const uint8_t* row, const Filter& f, const int32_t* pairs, int npairs, int count,
                    uint8_t* out) {
#if GRAFT_AVX2
  if (kHasAvx2) {
    switch (npairs) {
      case 1: return horizontal_avx2<1>(row, f, pairs, npairs, count, out);
      case 2: return horizontal_avx2<2>(row, f, pairs, npairs, count, out);
      case 3: return horizontal_avx2<3>(row, f, pairs, npairs, count, out);
      default: return horizontal_avx2<0>(row, f, pairs, npairs, count, out);
    }
  }
#endif
  switch (npairs) {
    case 1: return horizontal<1>(row, f, pairs, npairs, count, out);
    case 2: return horizontal<2>(row, f, pairs, npairs, count, out);
    case 3: return horizontal<3>(row, f, pairs, npairs, count, out);
    default: return horizontal<0>(row, f, pairs, npairs, count, out);
  }
}

// Vertical pass: out[i] = rounded sum over k of weight[k] * rows[k][i], for `n` bytes.
void vertical(const uint8_t* const* rows, const int16_t* weight, int taps, size_t n, uint8_t* out) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i a0 = _mm_set1_epi32(kHalf), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < taps; k += 2) {
      const bool pair = k + 1 < taps;
      const uint16_t w0 = static_cast<uint16_t>(weight[k]);
      const uint16_t w1 = pair ? static_cast<uint16_t>(weight[k + 1]) : 0;
      const __m128i ww = _mm_set1_epi32(static_cast<int32_t>(w0 | (static_cast<uint32_t>(w1) << 16)));
      const __m128i ra = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + i));
      const __m128i rb = pair ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 1] + i)) : zero;
      const __m128i lo = _mm_unpacklo_epi8(ra, rb), hi = _mm_unpackhi_epi8(ra, rb);
      a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi8(lo, zero), ww));
      a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi8(lo, zero), ww));
      a2 = _mm_add_epi32(a2, _mm_madd_epi16(_mm_unpacklo_epi8(hi, zero), ww));
      a3 = _mm_add_epi32(a3, _mm_madd_epi16(_mm_unpackhi_epi8(hi, zero), ww));
    }
    const __m128i l = _mm_packs_epi32(_mm_srai_epi32(a0, kWeightBits), _mm_srai_epi32(a1, kWeightBits));
    const __m128i h = _mm_packs_epi32(_mm_srai_epi32(a2, kWeightBits), _mm_srai_epi32(a3, kWeightBits));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(l, h));
  }
#endif
  for (; i < n; i++) {
    int32_t acc = kHalf;
    for (int k = 0; k < taps; k++) acc += weight[k] * rows[k][i];
    out[i] = level(acc);
  }
}

// make_filter for an axis, kept while the geometry repeats (a data set's images mostly share a size).
const Filter& cached_filter(Filter& cache, int (&key)[5], int src, int dst, int first, int count, Kernel kernel) {
  const int want[5] = {src, dst, first, count, static_cast<int>(kernel)};
  if (!std::equal(want, want + 5, key)) {
    cache = make_filter(src, dst, first, count, kernel);
    std::copy(want, want + 5, key);
  }
  return cache;
}

}  // namespace

void resample_into(const uint8_t* src, int w, int h, const Target& t, ResampleScratch& scratch) {
  const int ow = t.out_w, oh = t.out_h;
  const Filter& fx = cached_filter(scratch.fx, scratch.fx_key, w, t.resize_w, t.crop_left, ow, t.kernel);
  const Filter& fy = cached_filter(scratch.fy, scratch.fy_key, h, t.resize_h, t.crop_top, oh, t.kernel);
  const int npairs = (fx.taps + 1) / 2;
  std::vector<int32_t>& pairs = scratch.pairs;
  pairs.resize(static_cast<size_t>(ow) * npairs);
  for (int x = 0; x < ow; x++)
    for (int k = 0; k < npairs; k++) {
      const int16_t* q = &fx.weight[static_cast<size_t>(x) * fx.taps + 2 * k];
      const uint16_t w0 = static_cast<uint16_t>(q[0]);
      const uint16_t w1 = 2 * k + 1 < fx.taps ? static_cast<uint16_t>(q[1]) : 0;
      pairs[static_cast<size_t>(x) * npairs + k] = static_cast<int32_t>(w0 | (static_cast<uint32_t>(w1) << 16));
    }
  // The source rows the vertical taps read, resampled horizontally once each.
  const int r0 = fy.start.front();
  const int r1 = fy.start.back() + fy.taps;
  const size_t line = static_cast<size_t>(ow) * 4;
  scratch.rows.resize(static_cast<size_t>(r1 - r0) * line + line);
  uint8_t* rows = scratch.rows.data();
  for (int r = r0; r < r1; r++)
    horizontal_any(src + static_cast<size_t>(r) * w * 4, fx, pairs.data(), npairs, ow,
               rows + static_cast<size_t>(r - r0) * line);
  uint8_t* levels = rows + static_cast<size_t>(r1 - r0) * line;

  const float* t0 = t.tables;
  const float* t1 = t.tables + 256;
  const float* t2 = t.tables + 512;
  const size_t plane = static_cast<size_t>(ow) * oh;
  std::vector<const uint8_t*> taps(fy.taps);
  for (int y = 0; y < oh; y++) {
    for (int k = 0; k < fy.taps; k++) taps[k] = rows + static_cast<size_t>(fy.start[y] + k - r0) * line;
    vertical(taps.data(), &fy.weight[static_cast<size_t>(y) * fy.taps], fy.taps, line, levels);
    const uint8_t* l = levels;
    if (t.layout == Layout::NHWC) {
      float* o = t.out + static_cast<size_t>(y) * ow * 3;
      for (int x = 0; x < ow; x++, o += 3, l += 4) o[0] = t0[l[0]], o[1] = t1[l[1]], o[2] = t2[l[2]];
    } else {
      float* r = t.out + static_cast<size_t>(y) * ow;
      for (int x = 0; x < ow; x++, l += 4) r[x] = t0[l[0]], r[plane + x] = t1[l[1]], r[2 * plane + x] = t2[l[2]];
    }
  }
}

}  // namespace graft
