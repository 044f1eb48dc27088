// N-API entry points of graft's optimizer addon (graft_optim.node). All calls are synchronous and work in place
// on the caller's Float32Arrays, split into blocks that `threads` threads (the caller's included) take in turn.
// Results do not depend on the thread count: updates are elementwise, and sums of squares are per fixed chunk
// (kernels.h), added in chunk order here.
//
//   sumSquares(tensors: Float32Array[], threads): Float64Array      per-tensor sums of squares
//   scale(tensors: Float32Array[], factor: number, threads): void    x *= Math.fround(factor)
//   adam(p, g, m, v: Float32Array[], scalars: Float32Array, threads): void
//        scalars holds kAdamScalars floats per tensor (kernels.h: AdamScalars, in declaration order)
//   sgd(p, g, buf: Float32Array[], scalars: Float32Array, threads): void
//        buf: the momentum buffers, or [] for plain SGD; scalars holds kSgdScalars floats per tensor
//        (kernels.h: SgdScalars, in declaration order)
//   isa(): string                                                     "avx512" | "avx2" | "scalar"
//   softmaxRegression(x, labels: Int32Array, weight, bias, gradWeight, gradBias, smoothing, threads): number
//        a linear softmax classifier's mean cross-entropy on all rows, its gradients written into gradWeight
//        and gradBias (softmax_regression.h); rows are split into units fixed by the problem's size alone
//   standardize(x, mean, std, out: Float32Array, threads): void      out = (x - mean) / std, row by row
//   shiftedColumnSums(x: Float32Array, dim, threads): Float64Array  [sums of x[i, j] − x[0, j] per column j,
//        then their squares' sums]: the one pass of a standardiser's statistics, columns split among threads
//   lbfgsTwoLoop(q: Float64Array, s: Float64Array[], y: Float64Array[], sy: Float64Array, gamma): void
//        q becomes L-BFGS's H·q from the curvature pairs, oldest first (lbfgs.h); one thread
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "kernels.h"
#include "lbfgs.h"
#include "softmax_regression.h"

namespace {

constexpr size_t kBlock = 1 << 16;  // elements per unit of work (a multiple of graft::kSumChunk's lane count)
static_assert(kBlock == graft::kSumChunk, "a block is one chunk of a sum of squares");

struct Span {
  float* data;
  size_t length;
};

struct Unit {
  size_t tensor;
  size_t offset;
  size_t length;
};

napi_value throw_type(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// A typed array of type `expected`: its data and length; false (with no exception pending) for anything else.
template <typename T>
bool typed_array(napi_env env, napi_value v, napi_typedarray_type expected, T** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* raw;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok) return false;
  *data = static_cast<T*>(raw);
  return type == expected;
}

bool float32s(napi_env env, napi_value v, Span* out) {
  return typed_array(env, v, napi_float32_array, &out->data, &out->length);
}

// An array of Float32Arrays; false (with no exception pending) when `v` is not one.
bool spans(napi_env env, napi_value v, std::vector<Span>* out) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) return false;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  out->resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || !float32s(env, e, &(*out)[i])) return false;
  }
  return true;
}

int thread_count(napi_env env, napi_value v) {
  int32_t t = 1;
  if (napi_get_value_int32(env, v, &t) != napi_ok) return 1;
  return std::clamp(t, 1, 64);
}

std::vector<Unit> units(const std::vector<Span>& tensors) {
  std::vector<Unit> out;
  for (size_t t = 0; t < tensors.size(); t++)
    for (size_t o = 0; o < tensors[t].length; o += kBlock)
      out.push_back({t, o, std::min(kBlock, tensors[t].length - o)});
  return out;
}

// Threads for an elementwise pass over `u`: at most `requested`, and one per kElementsPerThread elements, as
// starting a thread costs more than a pass over fewer (a small head's parameters take one thread).
constexpr size_t kElementsPerThread = 4 * kBlock;
int elementwise_threads(const std::vector<Unit>& u, int requested) {
  size_t total = 0;
  for (const Unit& unit : u) total += unit.length;
  return static_cast<int>(std::clamp<size_t>((total + kElementsPerThread - 1) / kElementsPerThread, 1,
                                             static_cast<size_t>(requested)));
}

// Runs f(unit index) for every unit on `threads` threads; each thread takes the next unit in turn.
template <typename F>
void parallel(size_t count, int threads, const F& f) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) f(i);
  };
  const int extra = static_cast<int>(std::min<size_t>(threads, count)) - 1;
  std::vector<std::thread> pool;
  for (int k = 0; k < extra; k++) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

napi_value sum_squares(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::vector<Span> x;
  if (argc < 2 || !spans(env, argv[0], &x)) return throw_type(env, "sumSquares: expected Float32Array[], threads");
  const std::vector<Unit> u = units(x);
  std::vector<double> chunk(u.size());
  parallel(u.size(), elementwise_threads(u, thread_count(env, argv[1])), [&](size_t i) {
    chunk[i] = graft::chunk_sum_squares(x[u[i].tensor].data + u[i].offset, u[i].length);
  });
  void* data;
  napi_value buffer, result;
  napi_create_arraybuffer(env, x.size() * sizeof(double), &data, &buffer);
  double* sums = static_cast<double*>(data);
  std::fill(sums, sums + x.size(), 0.0);
  for (size_t i = 0; i < u.size(); i++) sums[u[i].tensor] += chunk[i];
  napi_create_typedarray(env, napi_float64_array, x.size(), buffer, 0, &result);
  return result;
}

napi_value scale(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::vector<Span> x;
  double factor = 1;
  if (argc < 3 || !spans(env, argv[0], &x) || napi_get_value_double(env, argv[1], &factor) != napi_ok)
    return throw_type(env, "scale: expected Float32Array[], factor, threads");
  const float f = static_cast<float>(factor);
  const std::vector<Unit> u = units(x);
  parallel(u.size(), elementwise_threads(u, thread_count(env, argv[2])),
           [&](size_t i) { graft::scale(x[u[i].tensor].data + u[i].offset, u[i].length, f); });
  return nullptr;
}

napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::vector<Span> p, g, m, v;
  Span scalars{};
  if (argc < 6 || !spans(env, argv[0], &p) || !spans(env, argv[1], &g) || !spans(env, argv[2], &m) ||
      !spans(env, argv[3], &v) || !float32s(env, argv[4], &scalars))
    return throw_type(env, "adam: expected p, g, m, v: Float32Array[], scalars: Float32Array, threads");
  const size_t n = p.size();
  if (g.size() != n || m.size() != n || v.size() != n || scalars.length != n * graft::kAdamScalars)
    return throw_type(env, "adam: p, g, m, v and scalars must describe the same tensors");
  for (size_t t = 0; t < n; t++)
    if (g[t].length != p[t].length || m[t].length != p[t].length || v[t].length != p[t].length)
      return throw_type(env, "adam: p, g, m and v must have equal lengths per tensor");
  std::vector<graft::AdamScalars> s(n);
  for (size_t t = 0; t < n; t++) {
    const float* k = scalars.data + t * graft::kAdamScalars;
    s[t] = {k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]};
  }
  const std::vector<Unit> u = units(p);
  parallel(u.size(), elementwise_threads(u, thread_count(env, argv[5])), [&](size_t i) {
    const size_t t = u[i].tensor, o = u[i].offset;
    graft::adam(p[t].data + o, g[t].data + o, m[t].data + o, v[t].data + o, u[i].length, s[t]);
  });
  return nullptr;
}

napi_value sgd(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::vector<Span> p, g, buf;
  Span scalars{};
  if (argc < 5 || !spans(env, argv[0], &p) || !spans(env, argv[1], &g) || !spans(env, argv[2], &buf) ||
      !float32s(env, argv[3], &scalars))
    return throw_type(env, "sgd: expected p, g, buf: Float32Array[], scalars: Float32Array, threads");
  const size_t n = p.size();
  const bool momentum = !buf.empty();
  if (g.size() != n || (momentum && buf.size() != n) || scalars.length != n * graft::kSgdScalars)
    return throw_type(env, "sgd: p, g, buf (when given) and scalars must describe the same tensors");
  for (size_t t = 0; t < n; t++)
    if (g[t].length != p[t].length || (momentum && buf[t].length != p[t].length))
      return throw_type(env, "sgd: p, g and buf must have equal lengths per tensor");
  std::vector<graft::SgdScalars> s(n);
  for (size_t t = 0; t < n; t++) {
    const float* k = scalars.data + t * graft::kSgdScalars;
    s[t] = {k[0], k[1], k[2], k[3], k[4]};
  }
  const std::vector<Unit> u = units(p);
  parallel(u.size(), elementwise_threads(u, thread_count(env, argv[4])), [&](size_t i) {
    const size_t t = u[i].tensor, o = u[i].offset;
    graft::sgd(p[t].data + o, g[t].data + o, momentum ? buf[t].data + o : nullptr, u[i].length, s[t]);
  });
  return nullptr;
}

// Units of rows whose partial sums are added in unit order: at most 32, of at least 256 rows, and at most
// 16 M partial floats in all; the split depends on the problem alone, so the sums do not depend on `threads`.
size_t row_units(size_t n, size_t partial_floats) {
  const size_t by_rows = (n + 255) / 256;
  const size_t by_memory = std::max<size_t>(1, (size_t{1} << 24) / std::max<size_t>(1, partial_floats));
  return std::max<size_t>(1, std::min({by_rows, size_t{32}, by_memory}));
}

napi_value softmax_regression(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Span x{}, w{}, b{}, gw{}, gb{};
  const int32_t* labels = nullptr;
  size_t n = 0;
  double smoothing = 0;
  if (argc < 8 || !float32s(env, argv[0], &x) || !typed_array(env, argv[1], napi_int32_array, &labels, &n) ||
      !float32s(env, argv[2], &w) || !float32s(env, argv[3], &b) || !float32s(env, argv[4], &gw) ||
      !float32s(env, argv[5], &gb) || napi_get_value_double(env, argv[6], &smoothing) != napi_ok)
    return throw_type(env,
                      "softmaxRegression: expected x, labels: Int32Array, weight, bias, gradWeight, gradBias: "
                      "Float32Array, smoothing, threads");
  const size_t k = b.length;
  const size_t d = k ? w.length / k : 0;
  if (k < 1 || n < 1 || w.length != k * d || x.length != n * d || gw.length != w.length || gb.length != k)
    return throw_type(env, "softmaxRegression: shapes disagree (x [n, d], weight [k, d], bias [k])");
  graft::LinearSoftmaxProblem p{x.data, labels, n, d, k, w.data, b.data, smoothing};
  std::vector<float> weight_t;
  if (graft::prefers_transposed_weight(k)) {
    weight_t.resize(d * graft::padded_classes(k));
    graft::transpose_weight(w.data, k, d, weight_t.data());
    p.weight_t = weight_t.data();
  }
  const size_t partial = k * d + k;
  const size_t count = row_units(n, partial);
  const size_t rows = (n + count - 1) / count;
  std::vector<float> sums(count * partial, 0.0f);
  std::vector<double> losses(count, 0.0);
  std::atomic<bool> ok{true};
  parallel(count, thread_count(env, argv[7]), [&](size_t u) {
    float* part = sums.data() + u * partial;
    const size_t begin = u * rows, end = std::min(n, begin + rows);
    if (begin < end && !graft::softmax_regression_rows(p, begin, end, part, part + k * d, &losses[u]))
      ok = false;
  });
  if (!ok) {
    napi_throw_range_error(env, nullptr, "softmaxRegression: a label is outside [0, classes)");
    return nullptr;
  }
  // The units' partial sums added in unit order, element by element; the loop over elements inside, so it runs in
  // vectors (the same additions in the same order as one element at a time).
  const float rows_f = static_cast<float>(n);
  parallel((partial + kBlock - 1) / kBlock, thread_count(env, argv[7]), [&](size_t block) {
    const size_t from = block * kBlock, to = std::min(partial, from + kBlock);
    float* total = sums.data();
    for (size_t u = 1; u < count; u++) {
      const float* part = sums.data() + u * partial;
      for (size_t i = from; i < to; i++) total[i] += part[i];
    }
    for (size_t i = from; i < to; i++) (i < k * d ? gw.data[i] : gb.data[i - k * d]) = total[i] / rows_f;
  });
  double loss = 0;
  for (double l : losses) loss += l;
  napi_value result;
  napi_create_double(env, loss / static_cast<double>(n), &result);
  return result;
}

napi_value standardize(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Span x{}, mean{}, std_{}, out{};
  if (argc < 5 || !float32s(env, argv[0], &x) || !float32s(env, argv[1], &mean) || !float32s(env, argv[2], &std_) ||
      !float32s(env, argv[3], &out))
    return throw_type(env, "standardize: expected x, mean, std, out: Float32Array, threads");
  const size_t d = mean.length;
  if (d < 1 || std_.length != d || x.length % d != 0 || out.length != x.length)
    return throw_type(env, "standardize: x [n, d], mean [d], std [d], out [n, d]");
  const size_t n = x.length / d;
  const size_t per = std::max<size_t>(1, kBlock / d);
  parallel((n + per - 1) / per, thread_count(env, argv[4]), [&](size_t u) {
    graft::standardize_rows(x.data, mean.data, std_.data, out.data, d, u * per, std::min(n, (u + 1) * per));
  });
  return nullptr;
}

// An array of Float64Arrays, each of length n.
bool float64_rows(napi_env env, napi_value v, size_t n, std::vector<const double*>* out) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) return false;
  uint32_t count = 0;
  napi_get_array_length(env, v, &count);
  out->resize(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    double* data;
    size_t length;
    if (napi_get_element(env, v, i, &e) != napi_ok || !typed_array(env, e, napi_float64_array, &data, &length) || length != n)
      return false;
    (*out)[i] = data;
  }
  return true;
}

napi_value lbfgs_two_loop(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double *q, *sy;
  size_t n = 0, m = 0;
  double gamma = 1;
  std::vector<const double*> s, y;
  if (argc < 5 || !typed_array(env, argv[0], napi_float64_array, &q, &n) || !float64_rows(env, argv[1], n, &s) ||
      !float64_rows(env, argv[2], n, &y) || !typed_array(env, argv[3], napi_float64_array, &sy, &m) ||
      napi_get_value_double(env, argv[4], &gamma) != napi_ok || s.size() != m || y.size() != m)
    return throw_type(env, "lbfgsTwoLoop: expected q: Float64Array, s, y: Float64Array[] (m pairs of q's length), "
                           "sy: Float64Array [m], gamma");
  std::vector<double> alpha(m);
  graft::lbfgs_two_loop(q, n, s.data(), y.data(), sy, m, gamma, alpha.data());
  return nullptr;
}

napi_value shifted_column_sums(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Span x{};
  int64_t dim = 0;
  if (argc < 3 || !float32s(env, argv[0], &x) || napi_get_value_int64(env, argv[1], &dim) != napi_ok || dim < 1 ||
      x.length % static_cast<size_t>(dim) != 0)
    return throw_type(env, "shiftedColumnSums: expected x: Float32Array [n, dim], dim, threads");
  const size_t d = static_cast<size_t>(dim), n = x.length / d;
  void* data;
  napi_value buffer, result;
  napi_create_arraybuffer(env, 2 * d * sizeof(double), &data, &buffer);
  double* sums = static_cast<double*>(data);
  std::fill(sums, sums + 2 * d, 0.0);
  // One contiguous range of whole cache lines of columns per thread: each thread reads a long run of every row,
  // which the prefetchers follow (64-column units, one line of each row, ran ~3x slower on 1280 columns).
  const int threads = thread_count(env, argv[2]);
  const size_t per = std::max<size_t>(16, (d + threads - 1) / threads + 15) / 16 * 16;
  parallel((d + per - 1) / per, threads, [&](size_t u) {
    graft::shifted_column_sums(x.data, n, d, u * per, std::min(d, (u + 1) * per), sums, sums + d);
  });
  napi_create_typedarray(env, napi_float64_array, 2 * d, buffer, 0, &result);
  return result;
}

napi_value isa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, graft::isa_name(), NAPI_AUTO_LENGTH, &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"sumSquares", sum_squares}, {"scale", scale}, {"adam", adam}, {"sgd", sgd},
              {"isa", isa}, {"softmaxRegression", softmax_regression}, {"standardize", standardize},
              {"lbfgsTwoLoop", lbfgs_two_loop}, {"shiftedColumnSums", shifted_column_sums}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
