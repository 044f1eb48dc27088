// Depthwise convolution kernels (see depthwise.h). Work is split by image plane (forward, input gradient) or by
// channel (weight gradient), so no two threads write the same output.
#include "depthwise.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace graft {
namespace {

#define GRAFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Runs f(i, worker) for i in [0, count) on up to `threads` threads (worker: 0 for the calling thread, then 1, 2,
// ...); each thread takes the next index in turn.
template <typename F>
void parallel(size_t count, int threads, const F& f) {
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) f(i, worker);
  };
  const int extra = static_cast<int>(std::min<size_t>(std::max(threads, 1), count)) - 1;
  std::vector<std::thread> pool;
  for (int k = 0; k < extra; k++) pool.emplace_back(work, k + 1);
  work(0);
  for (auto& th : pool) th.join();
}

// y[o] += a * x[o]
GRAFT_CLONES void axpy(float* __restrict y, const float* __restrict x, float a, int n) {
  for (int o = 0; o < n; o++) y[o] += a * x[o];
}

// y[o] += a * x0[o] + b * x1[o] + c * x2[o]: three taps of one kernel row in one pass over y.
GRAFT_CLONES void axpy3(float* __restrict y, const float* __restrict x0, const float* __restrict x1,
                        const float* __restrict x2, float a, float b, float c, int n) {
  for (int o = 0; o < n; o++) y[o] += a * x0[o] + b * x1[o] + c * x2[o];
}

// sum of x[o] * y[o] in float, over 16 interleaved partial sums (so the loop vectorises without reassociation).
GRAFT_CLONES float dot(const float* __restrict x, const float* __restrict y, int n) {
  float lanes[16] = {0};
  int o = 0;
  for (; o + 16 <= n; o += 16)
    for (int l = 0; l < 16; l++) lanes[l] += x[o + l] * y[o + l];
  for (; o < n; o++) lanes[o & 15] += x[o] * y[o];
  float s = 0;
  for (int l = 0; l < 16; l++) s += lanes[l];
  return s;
}

// The phase-split, zero-padded copy of one input plane: row ih, phase r, index k holds padded column k*sw + r.
struct PhasePlane {
  const DepthwiseGeometry& g;
  int len;  // floats per phase: ceil(padded width / sw)
  std::vector<float> buf;

  explicit PhasePlane(const DepthwiseGeometry& geo)
      : g(geo), len((geo.w + geo.pl + geo.pr + geo.sw - 1) / geo.sw), buf(size_t(geo.h) * geo.sw * len) {}

  float* at(int ih, int r) { return buf.data() + (size_t(ih) * g.sw + r) * len; }

  // The row that kernel column j reads for output column 0 (then consecutive output columns follow).
  float* tap(int ih, int j) { return at(ih, j % g.sw) + j / g.sw; }

  void load(const float* x) {
    std::fill(buf.begin(), buf.end(), 0.0f);
    for (int ih = 0; ih < g.h; ih++) {
      const float* row = x + size_t(ih) * g.w;
      if (g.sw == 1) {
        std::memcpy(at(ih, 0) + g.pl, row, sizeof(float) * g.w);
        continue;
      }
      for (int r = 0; r < g.sw; r++) {
        float* dst = at(ih, r);
        const int iw0 = ((r - g.pl) % g.sw + g.sw) % g.sw;  // first column of phase r
        for (int iw = iw0, k = (iw0 + g.pl) / g.sw; iw < g.w; iw += g.sw, k++) dst[k] = row[iw];
      }
    }
  }

  void store(float* x) {
    for (int ih = 0; ih < g.h; ih++) {
      float* row = x + size_t(ih) * g.w;
      if (g.sw == 1) {
        std::memcpy(row, at(ih, 0) + g.pl, sizeof(float) * g.w);
        continue;
      }
      for (int r = 0; r < g.sw; r++) {
        const float* src = at(ih, r);
        const int iw0 = ((r - g.pl) % g.sw + g.sw) % g.sw;
        for (int iw = iw0, k = (iw0 + g.pl) / g.sw; iw < g.w; iw += g.sw, k++) row[iw] = src[k];
      }
    }
  }
};

// Calls f(i, ih) for each kernel row i whose input row ih (for output row oh) lies inside the image.
template <typename F>
inline void rows_of(const DepthwiseGeometry& g, int oh, const F& f) {
  for (int i = 0; i < g.kh; i++) {
    const int ih = oh * g.sh + i - g.pt;
    if (ih >= 0 && ih < g.h) f(i, ih);
  }
}


// Small planes (output rows shorter than one vector) run channels-last instead: each image is copied to
// [row][column][channel] with a zero border, so every tap of every output position is one multiply-add over all
// channels, a loop as long as the channel count. Row-wise loops over a 7- or 14-wide plane never reach the
// vector body and spend their time in call and tail overhead.
inline bool channels_last_pays(const DepthwiseGeometry& g) { return g.wo < 16 && g.c >= 16; }

// acc[k] += w[k] * x[k] over the channels.
GRAFT_CLONES void fma_channels(float* __restrict acc, const float* __restrict w, const float* __restrict x, int c) {
  for (int k = 0; k < c; k++) acc[k] += w[k] * x[k];
}

// One image's planes [c][h][w] into dst[(r + pt) * wp + q + pl][c]; the border is left as it is. Blocks of 16
// channels: each position's 16 values are written as one run while 16 planes are read in step.
void to_channels_last_scalar(const float* src, int c, int h, int w, int pt, int pl, int wp, float* dst) {
  const size_t plane = size_t(h) * w;
  for (int c0 = 0; c0 < c; c0 += 16) {
    const int cn = std::min(16, c - c0);
    for (int r = 0; r < h; r++)
      for (int q = 0; q < w; q++) {
        const float* s = src + size_t(c0) * plane + size_t(r) * w + q;
        float* d = dst + (size_t(r + pt) * wp + q + pl) * c + c0;
        for (int k = 0; k < cn; k++) d[k] = s[k * plane];
      }
  }
}

// The inverse: rows pt.. and columns pl.. of src[r * wp + q][c] back to planes [c][h][w].
void from_channels_last_scalar(const float* src, int c, int h, int w, int pt, int pl, int wp, float* dst) {
  const size_t plane = size_t(h) * w;
  for (int c0 = 0; c0 < c; c0 += 16) {
    const int cn = std::min(16, c - c0);
    for (int r = 0; r < h; r++)
      for (int q = 0; q < w; q++) {
        const float* s = src + (size_t(r + pt) * wp + q + pl) * c + c0;
        float* d = dst + size_t(c0) * plane + size_t(r) * w + q;
        for (int k = 0; k < cn; k++) d[k * plane] = s[k];
      }
  }
}

__attribute__((target("avx512f"))) inline __mmask16 first_lanes(int count) {
  return count >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << count) - 1);
}

// GCC 12's intrinsics header passes an undefined vector to the masked builtins behind _mm512_unpack*_ps, which
// -Wmaybe-uninitialized reports once they are inlined here; every lane read is defined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// v[i][j] becomes v[j][i]: 16 vectors of 16 floats transposed in registers (pairs of floats, then of pairs, within
// each 128-bit lane; then a 4 × 4 transpose of the lanes).
__attribute__((target("avx512f"))) inline void transpose16(__m512 (&v)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
  }
  // s[g][m]: lane l holds column 4l + m of rows 4g .. 4g + 3
  __m512 s[4][4];
  for (int g = 0; g < 4; g++) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    s[g][0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    s[g][1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    s[g][2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    s[g][3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int m = 0; m < 4; m++) {
    const __m512 u0 = _mm512_shuffle_f32x4(s[0][m], s[1][m], 0x44), u1 = _mm512_shuffle_f32x4(s[0][m], s[1][m], 0xee);
    const __m512 u2 = _mm512_shuffle_f32x4(s[2][m], s[3][m], 0x44), u3 = _mm512_shuffle_f32x4(s[2][m], s[3][m], 0xee);
    v[m] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    v[4 + m] = _mm512_shuffle_f32x4(u0, u2, 0xdd);
    v[8 + m] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    v[12 + m] = _mm512_shuffle_f32x4(u1, u3, 0xdd);
  }
}
#pragma GCC diagnostic pop

// The scalar copies above, 16 channels × 16 positions at a time transposed in registers: planes [c][h][w] to
// positions [(r + pt) * wp + q + pl][c] (to_last), or back.
__attribute__((target("avx512f"))) void channels_last_avx512(const float* src, int c, int h, int w, int pt, int pl,
                                                            int wp, float* dst, bool to_last) {
  const int plane = h * w;
  for (int c0 = 0; c0 < c; c0 += 16) {
    const int cn = std::min(16, c - c0);
    for (int p0 = 0; p0 < plane; p0 += 16) {
      const int count = std::min(16, plane - p0);
      // position p0 + i of the channels-last image, offset to channel c0
      const auto position = [&](int i) { return (size_t((p0 + i) / w + pt) * wp + (p0 + i) % w + pl) * c + c0; };
      const auto channel = [&](int k) { return size_t(c0 + k) * plane + p0; };
      // rows of 16 lanes: channels' runs of positions (to_last) or positions' runs of channels
      const int rows = to_last ? cn : count, lanes = to_last ? count : cn;
      __m512 v[16];
      for (int i = 0; i < 16; i++)
        v[i] = i < rows ? _mm512_maskz_loadu_ps(first_lanes(lanes), src + (to_last ? channel(i) : position(i)))
                        : _mm512_setzero_ps();
      transpose16(v);
      for (int i = 0; i < lanes; i++)
        _mm512_mask_storeu_ps(dst + (to_last ? position(i) : channel(i)), first_lanes(rows), v[i]);
    }
  }
}

// Whether the channels-last copies transpose in AVX-512 registers: where the CPU has it, unless
// GRAFT_CONV_ISA=scalar asks for the plain loops (tests compare the two).
bool vector_transposes() {
  static const bool yes = [] {
    __builtin_cpu_init();
    const char* isa = std::getenv("GRAFT_CONV_ISA");
    return __builtin_cpu_supports("avx512f") && !(isa && std::strcmp(isa, "scalar") == 0);
  }();
  return yes;
}

void to_channels_last(const float* src, int c, int h, int w, int pt, int pl, int wp, float* dst) {
  if (vector_transposes())
    channels_last_avx512(src, c, h, w, pt, pl, wp, dst, true);
  else
    to_channels_last_scalar(src, c, h, w, pt, pl, wp, dst);
}

void from_channels_last(const float* src, int c, int h, int w, int pt, int pl, int wp, float* dst) {
  if (vector_transposes())
    channels_last_avx512(src, c, h, w, pt, pl, wp, dst, false);
  else
    from_channels_last_scalar(src, c, h, w, pt, pl, wp, dst);
}

// The kernel as [tap][channel].
std::vector<float> taps_by_channel(const DepthwiseGeometry& g, const float* w) {
  const int taps = g.kh * g.kw;
  std::vector<float> t(size_t(taps) * g.c);
  for (int ch = 0; ch < g.c; ch++)
    for (int k = 0; k < taps; k++) t[size_t(k) * g.c + ch] = w[size_t(ch) * taps + k];
  return t;
}

// One call's channels-last layout: offsets into a padded input image ([hp][wp][c], zero border) and an output
// image ([ho][wo][c]), and each worker's buffers of both sizes, with the copies between them and NCHW images.
struct ChannelsLast {
  const DepthwiseGeometry& g;
  int hp, wp;
  size_t in_image, out_image;  // floats per NCHW image, input and output
  std::vector<std::vector<float>> inputs, outputs;

  ChannelsLast(const DepthwiseGeometry& geo, int threads)
      : g(geo),
        hp(geo.h + geo.pt + geo.pb),
        wp(geo.w + geo.pl + geo.pr),
        in_image(size_t(geo.c) * geo.h * geo.w),
        out_image(size_t(geo.c) * geo.ho * geo.wo),
        inputs(std::max(threads, 1), std::vector<float>(size_t(hp) * wp * geo.c)),
        outputs(std::max(threads, 1), std::vector<float>(size_t(geo.ho) * geo.wo * geo.c)) {}

  // Offset of input position (oh * sh + i, ow * sw + j) in a padded image.
  size_t in(int oh, int ow, int i, int j) const { return (size_t(oh * g.sh + i) * wp + ow * g.sw + j) * g.c; }
  size_t out(int oh, int ow) const { return (size_t(oh) * g.wo + ow) * g.c; }

  // The worker's padded input buffer, zeroed (and holding image n of x when x is given).
  float* input(int worker, const float* x = nullptr, size_t n = 0) {
    std::vector<float>& b = inputs[worker];
    std::fill(b.begin(), b.end(), 0.0f);
    if (x) to_channels_last(x + n * in_image, g.c, g.h, g.w, g.pt, g.pl, wp, b.data());
    return b.data();
  }
  // The worker's output buffer (holding image n of y when y is given).
  float* output(int worker, const float* y = nullptr, size_t n = 0) {
    float* b = outputs[worker].data();
    if (y) to_channels_last(y + n * out_image, g.c, g.ho, g.wo, 0, 0, g.wo, b);
    return b;
  }
  void store_input(const float* b, float* x, size_t n) const {
    from_channels_last(b, g.c, g.h, g.w, g.pt, g.pl, wp, x + n * in_image);
  }
  void store_output(const float* b, float* y, size_t n) const {
    from_channels_last(b, g.c, g.ho, g.wo, 0, 0, g.wo, y + n * out_image);
  }
};

void forward_channels_last(const DepthwiseGeometry& g, const float* x, const float* w, const float* bias, float* y,
                           int threads) {
  ChannelsLast cl(g, threads);
  const std::vector<float> wt = taps_by_channel(g, w);
  parallel(size_t(g.n), threads, [&](size_t n, int worker) {
    const float* xs = cl.input(worker, x, n);
    float* ys = cl.output(worker);
    for (int oh = 0; oh < g.ho; oh++)
      for (int ow = 0; ow < g.wo; ow++) {
        float* acc = ys + cl.out(oh, ow);
        if (bias)
          std::memcpy(acc, bias, sizeof(float) * g.c);
        else
          std::fill(acc, acc + g.c, 0.0f);
        for (int i = 0; i < g.kh; i++)
          for (int j = 0; j < g.kw; j++)
            fma_channels(acc, wt.data() + size_t(i * g.kw + j) * g.c, xs + cl.in(oh, ow, i, j), g.c);
      }
    cl.store_output(ys, y, n);
  });
}

void grad_input_channels_last(const DepthwiseGeometry& g, const float* dy, const float* w, float* dx, int threads) {
  ChannelsLast cl(g, threads);
  const std::vector<float> wt = taps_by_channel(g, w);
  parallel(size_t(g.n), threads, [&](size_t n, int worker) {
    float* gx = cl.input(worker);
    const float* gy = cl.output(worker, dy, n);
    for (int oh = 0; oh < g.ho; oh++)
      for (int ow = 0; ow < g.wo; ow++)
        for (int i = 0; i < g.kh; i++)
          for (int j = 0; j < g.kw; j++)
            fma_channels(gx + cl.in(oh, ow, i, j), wt.data() + size_t(i * g.kw + j) * g.c, gy + cl.out(oh, ow), g.c);
    cl.store_input(gx, dx, n);
  });
}

// Per image, each tap's sum over output positions in float; across images in double, in image order (so the
// result does not depend on the thread count).
void grad_weight_channels_last(const DepthwiseGeometry& g, const float* x, const float* dy, float* dw, int threads) {
  ChannelsLast cl(g, threads);
  const int taps = g.kh * g.kw;
  const size_t per_image = size_t(taps) * g.c;
  std::vector<float> partial(size_t(g.n) * per_image, 0.0f);
  parallel(size_t(g.n), threads, [&](size_t n, int worker) {
    const float* xs = cl.input(worker, x, n);
    const float* gy = cl.output(worker, dy, n);
    float* acc = partial.data() + n * per_image;
    for (int oh = 0; oh < g.ho; oh++)
      for (int ow = 0; ow < g.wo; ow++)
        for (int i = 0; i < g.kh; i++)
          for (int j = 0; j < g.kw; j++)
            fma_channels(acc + size_t(i * g.kw + j) * g.c, gy + cl.out(oh, ow), xs + cl.in(oh, ow, i, j), g.c);
  });
  std::vector<double> sum(per_image, 0.0);
  for (int n = 0; n < g.n; n++) {
    const float* p = partial.data() + size_t(n) * per_image;
    for (size_t k = 0; k < per_image; k++) sum[k] += p[k];
  }
  for (int ch = 0; ch < g.c; ch++)
    for (int k = 0; k < taps; k++) dw[size_t(ch) * taps + k] = static_cast<float>(sum[size_t(k) * g.c + ch]);
}

}  // namespace

bool depthwise_resolve(DepthwiseGeometry* g) {
  if (g->n <= 0 || g->c <= 0 || g->h <= 0 || g->w <= 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 ||
      g->pt < 0 || g->pl < 0 || g->pb < 0 || g->pr < 0)
    return false;
  const int hp = g->h + g->pt + g->pb, wp = g->w + g->pl + g->pr;
  if (hp < g->kh || wp < g->kw) return false;
  g->ho = (hp - g->kh) / g->sh + 1;
  g->wo = (wp - g->kw) / g->sw + 1;
  return true;
}

void depthwise_forward(const DepthwiseGeometry& g, const float* x, const float* w, const float* bias, float* y,
                       int threads) {
  if (channels_last_pays(g)) return forward_channels_last(g, x, w, bias, y, threads);
  const size_t in_plane = size_t(g.h) * g.w, out_plane = size_t(g.ho) * g.wo;
  std::vector<PhasePlane> planes(std::max(threads, 1), PhasePlane(g));
  parallel(size_t(g.n) * g.c, threads, [&](size_t p, int worker) {
    PhasePlane* plane = &planes[worker];
    const int c = int(p % g.c);
    const float* wc = w + size_t(c) * g.kh * g.kw;
    plane->load(x + p * in_plane);
    float* yp = y + p * out_plane;
    const float b = bias ? bias[c] : 0.0f;
    for (int oh = 0; oh < g.ho; oh++) {
      float* yrow = yp + size_t(oh) * g.wo;
      std::fill(yrow, yrow + g.wo, b);
      rows_of(g, oh, [&](int i, int ih) {
        const float* wr = wc + i * g.kw;
        if (g.kw == 3)
          axpy3(yrow, plane->tap(ih, 0), plane->tap(ih, 1), plane->tap(ih, 2), wr[0], wr[1], wr[2], g.wo);
        else
          for (int j = 0; j < g.kw; j++) axpy(yrow, plane->tap(ih, j), wr[j], g.wo);
      });
    }
  });
}

void depthwise_grad_input(const DepthwiseGeometry& g, const float* dy, const float* w, float* dx, int threads) {
  if (channels_last_pays(g)) return grad_input_channels_last(g, dy, w, dx, threads);
  const size_t in_plane = size_t(g.h) * g.w, out_plane = size_t(g.ho) * g.wo;
  std::vector<PhasePlane> planes(std::max(threads, 1), PhasePlane(g));
  parallel(size_t(g.n) * g.c, threads, [&](size_t p, int worker) {
    PhasePlane* plane = &planes[worker];
    const int c = int(p % g.c);
    const float* wc = w + size_t(c) * g.kh * g.kw;
    std::fill(plane->buf.begin(), plane->buf.end(), 0.0f);
    const float* dyp = dy + p * out_plane;
    for (int oh = 0; oh < g.ho; oh++) {
      const float* grow = dyp + size_t(oh) * g.wo;
      rows_of(g, oh, [&](int i, int ih) {
        for (int j = 0; j < g.kw; j++) axpy(plane->tap(ih, j), grow, wc[i * g.kw + j], g.wo);
      });
    }
    plane->store(dx + p * in_plane);
  });
}

void depthwise_grad_weight(const DepthwiseGeometry& g, const float* x, const float* dy, float* dw, int threads) {
  if (channels_last_pays(g)) return grad_weight_channels_last(g, x, dy, dw, threads);
  const size_t in_plane = size_t(g.h) * g.w, out_plane = size_t(g.ho) * g.wo;
  const int taps = g.kh * g.kw;
  std::vector<PhasePlane> planes(std::max(threads, 1), PhasePlane(g));
  parallel(size_t(g.c), threads, [&](size_t c, int worker) {
    PhasePlane* plane = &planes[worker];
    std::vector<double> acc(taps, 0.0);
    for (int n = 0; n < g.n; n++) {
      const size_t p = size_t(n) * g.c + c;
      plane->load(x + p * in_plane);
      const float* dyp = dy + p * out_plane;
      for (int oh = 0; oh < g.ho; oh++) {
        const float* grow = dyp + size_t(oh) * g.wo;
        rows_of(g, oh, [&](int i, int ih) {
          for (int j = 0; j < g.kw; j++) acc[i * g.kw + j] += dot(grow, plane->tap(ih, j), g.wo);
        });
      }
    }
    for (int t = 0; t < taps; t++) dw[c * taps + t] = static_cast<float>(acc[t]);
  });
}

const char* depthwise_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "scalar";
}

}  // namespace graft
