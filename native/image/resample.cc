#include "resample.h"

#include <algorithm>
#include <cmath>

namespace graft {

Taps make_taps(int src, int dst, int first, int count, Kernel kernel) {
  Taps t;
  const double scale = static_cast<double>(src) / dst;
  if (kernel == Kernel::Nearest) {
    t.width = 1;
    t.index.resize(count);
    t.weight.assign(count, 1.0f);
    for (int o = 0; o < count; o++) {
      const int s = static_cast<int>(std::floor((first + o + 0.5) * scale));
      t.index[o] = std::clamp(s, 0, src - 1);
    }
    t.first = t.index;
    return t;
  }
  if (src == dst) {
    // Same size: each output is exactly one source pixel.
    t.width = 1;
    t.index.resize(count);
    t.weight.assign(count, 1.0f);
    for (int o = 0; o < count; o++) t.index[o] = std::clamp(first + o, 0, src - 1);
    t.first = t.index;
    return t;
  }
  // The triangle covers the open interval (centre - support, centre + support): at most
  // ceil(2 * support) source pixels.
  const double support = std::max(1.0, scale);
  t.width = static_cast<int>(std::ceil(2 * support));
  t.index.resize(static_cast<size_t>(count) * t.width);
  t.weight.resize(static_cast<size_t>(count) * t.width);
  t.first.resize(count);
  std::vector<double> w(t.width);
  for (int o = 0; o < count; o++) {
    const double centre = (first + o + 0.5) * scale - 0.5;
    const int lo = static_cast<int>(std::floor(centre - support)) + 1;
    t.first[o] = lo;
    double sum = 0;
    for (int k = 0; k < t.width; k++) {
      const double d = std::abs(lo + k - centre) / support;
      w[k] = d < 1 ? 1 - d : 0;
      sum += w[k];
    }
    for (int k = 0; k < t.width; k++) {
      const size_t at = static_cast<size_t>(o) * t.width + k;
      t.index[at] = std::clamp(lo + k, 0, src - 1);
      t.weight[at] = static_cast<float>(w[k] / sum);
    }
  }
  return t;
}

namespace {

inline uint8_t to_u8(float v) {
  return static_cast<uint8_t>(static_cast<int>(std::min(std::max(v, 0.f), 255.f) + 0.5f));
}

// Vertical pass for one output row: out[i] = sum_k w[k] * rows[k][i] over `n` interleaved values.
void vertical(const uint8_t* const* rows, const float* w, int taps, size_t n, float* out) {
  std::fill(out, out + n, 0.f);
  for (int k = 0; k < taps; k++) {
    const uint8_t* in = rows[k];
    const float wk = w[k];
    for (size_t i = 0; i < n; i++) out[i] += wk * static_cast<float>(in[i]);
  }
}

// Horizontal pass over one (padded) line: the taps of output x are the consecutive source pixels from
// start[x]. W > 0 fixes the tap count at compile time (fully unrolled loops for the common widths);
// W = 0 takes it from `taps`.
template <int C, int W>
void horizontal(const float* line, const int32_t* start, const float* weight, int taps, int count,
                uint8_t* out) {
  const int n = W > 0 ? W : taps;
  for (int x = 0; x < count; x++) {
    const float* p = line + static_cast<size_t>(start[x]) * C;
    const float* w = weight + static_cast<size_t>(x) * n;
    float acc[C] = {};
    for (int k = 0; k < n; k++)
      for (int c = 0; c < C; c++) acc[c] += w[k] * p[k * C + c];
    for (int c = 0; c < C; c++) out[x * C + c] = to_u8(acc[c]);
  }
}

template <int C>
void horizontal_any(const float* line, const int32_t* start, const float* weight, int taps, int count,
                    uint8_t* out) {
  switch (taps) {
    case 1: return horizontal<C, 1>(line, start, weight, taps, count, out);
    case 2: return horizontal<C, 2>(line, start, weight, taps, count, out);
    case 3: return horizontal<C, 3>(line, start, weight, taps, count, out);
    case 4: return horizontal<C, 4>(line, start, weight, taps, count, out);
    default: return horizontal<C, 0>(line, start, weight, taps, count, out);
  }
}

template <int C>
void resample(const uint8_t* src, int w, int h, const Target& t, std::vector<float>& scratch) {
  const int ow = t.out_w, oh = t.out_h;
  const Taps hx = make_taps(w, t.resize_w, t.crop_left, ow, t.kernel);
  const Taps vy = make_taps(h, t.resize_h, t.crop_top, oh, t.kernel);
  // Horizontal taps as (first pixel, weights) over a line padded by `pad` replicated edge pixels on each
  // side: clamped indices become plain offsets, and every tap range is contiguous.
  const int HW = hx.width;
  const int pad = HW;
  // lo >= -width and lo + width <= w + width (see make_taps), so with `pad` = width every range fits.
  std::vector<int32_t> start(ow);
  for (int x = 0; x < ow; x++) start[x] = hx.first[x] + pad;
  const size_t line_len = static_cast<size_t>(w + 2 * pad) * C;
  scratch.resize(line_len + static_cast<size_t>(ow) * C / 4 + 1);
  float* line = scratch.data();
  uint8_t* levels = reinterpret_cast<uint8_t*>(line + line_len);

  const float* t0 = t.tables;
  const float* t1 = t.tables + 256;
  const float* t2 = t.tables + 512;
  const size_t plane = static_cast<size_t>(ow) * oh;
  const int VW = vy.width;
  std::vector<const uint8_t*> rows(VW);
  const size_t src_row = static_cast<size_t>(w) * C;
  for (int y = 0; y < oh; y++) {
    for (int k = 0; k < VW; k++) rows[k] = src + static_cast<size_t>(vy.index[static_cast<size_t>(y) * VW + k]) * src_row;
    float* body = line + static_cast<size_t>(pad) * C;
    vertical(rows.data(), &vy.weight[static_cast<size_t>(y) * VW], VW, src_row, body);
    for (int p = 0; p < pad; p++)
      for (int c = 0; c < C; c++) {
        line[p * C + c] = body[c];
        body[(w + p) * C + c] = body[(w - 1) * C + c];
      }
    horizontal_any<C>(line, start.data(), hx.weight.data(), HW, ow, levels);
    if (t.layout == Layout::NHWC) {
      float* o = t.out + static_cast<size_t>(y) * ow * 3;
      for (int x = 0; x < ow; x++, o += 3) {
        const uint8_t* l = levels + x * C;
        o[0] = t0[l[0]], o[1] = t1[l[C == 1 ? 0 : 1]], o[2] = t2[l[C == 1 ? 0 : 2]];
      }
    } else {
      float* r = t.out + static_cast<size_t>(y) * ow;
      for (int x = 0; x < ow; x++) {
        const uint8_t* l = levels + x * C;
        r[x] = t0[l[0]], r[plane + x] = t1[l[C == 1 ? 0 : 1]], r[2 * plane + x] = t2[l[C == 1 ? 0 : 2]];
      }
    }
  }
}

}  // namespace

void resample_into(const uint8_t* src, int w, int h, int channels, const Target& t,
                   std::vector<float>& scratch) {
  if (channels == 1)
    resample<1>(src, w, h, t, scratch);
  else
    resample<3>(src, w, h, t, scratch);
}

}  // namespace graft
