// Depthwise convolution kernels (see depthwise.h). Work is split by image plane (forward, input gradient) or by
// channel (weight gradient), so no two threads write the same output.
#include "depthwise.h"

#include <algorithm>
#include <atomic>
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
