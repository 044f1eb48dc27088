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
    return t;
  }
  if (src == dst) {
    // Same size: each output is exactly one source pixel.
    t.width = 1;
    t.index.resize(count);
    t.weight.assign(count, 1.0f);
    for (int o = 0; o < count; o++) t.index[o] = std::clamp(first + o, 0, src - 1);
    return t;
  }
  // The triangle covers the open interval (centre - support, centre + support): at most
  // ceil(2 * support) source pixels.
  const double support = std::max(1.0, scale);
  t.width = static_cast<int>(std::ceil(2 * support));
  t.index.resize(static_cast<size_t>(count) * t.width);
  t.weight.resize(static_cast<size_t>(count) * t.width);
  std::vector<double> w(t.width);
  for (int o = 0; o < count; o++) {
    const double centre = (first + o + 0.5) * scale - 0.5;
    const int lo = static_cast<int>(std::floor(centre - support)) + 1;
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

// Horizontal pass for one source row: `channels` interleaved in, `channels` interleaved out (float).
template <int C>
void horizontal(const uint8_t* row, const Taps& h, int count, float* out) {
  const int W = h.width;
  for (int x = 0; x < count; x++) {
    const int32_t* idx = &h.index[static_cast<size_t>(x) * W];
    const float* wt = &h.weight[static_cast<size_t>(x) * W];
    float acc[C] = {};
    for (int k = 0; k < W; k++) {
      const uint8_t* p = row + static_cast<size_t>(idx[k]) * C;
      for (int c = 0; c < C; c++) acc[c] += wt[k] * p[c];
    }
    for (int c = 0; c < C; c++) out[x * C + c] = acc[c];
  }
}

template <int C>
void resample(const uint8_t* src, int w, int h, const Target& t, std::vector<float>& scratch) {
  const int ow = t.out_w, oh = t.out_h;
  const Taps hx = make_taps(w, t.resize_w, t.crop_left, ow, t.kernel);
  const Taps vy = make_taps(h, t.resize_h, t.crop_top, oh, t.kernel);
  // Only the source rows some output row reads are filtered horizontally.
  int lo = h, hi = -1;
  for (int32_t r : vy.index) lo = std::min(lo, r), hi = std::max(hi, r);
  const int rows = hi - lo + 1;
  const size_t row_len = static_cast<size_t>(ow) * C;
  scratch.resize(static_cast<size_t>(rows) * row_len + row_len + row_len / 4 + 1);
  float* tmp = scratch.data();
  float* line = tmp + static_cast<size_t>(rows) * row_len;
  uint8_t* levels = reinterpret_cast<uint8_t*>(line + row_len);
  for (int r = 0; r < rows; r++)
    horizontal<C>(src + static_cast<size_t>(lo + r) * w * C, hx, ow, tmp + r * row_len);

  const float* t0 = t.tables;
  const float* t1 = t.tables + 256;
  const float* t2 = t.tables + 512;
  const size_t plane = static_cast<size_t>(ow) * oh;
  const int W = vy.width;
  for (int y = 0; y < oh; y++) {
    const int32_t* idx = &vy.index[static_cast<size_t>(y) * W];
    const float* wt = &vy.weight[static_cast<size_t>(y) * W];
    std::fill(line, line + row_len, 0.f);
    for (int k = 0; k < W; k++) {
      const float* in = tmp + static_cast<size_t>(idx[k] - lo) * row_len;
      const float wk = wt[k];
      for (size_t i = 0; i < row_len; i++) line[i] += wk * in[i];
    }
    // Round to 8 bits in one vectorisable pass, then look the levels up.
    for (size_t i = 0; i < row_len; i++) levels[i] = to_u8(line[i]);
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
