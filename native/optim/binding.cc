// N-API entry points of graft's optimizer addon (graft_optim.node). All calls are synchronous and work in place
// on the caller's Float32Arrays, split into blocks that `threads` threads (the caller's included) take in turn.
// Results do not depend on the thread count: updates are elementwise, and sums of squares are per fixed chunk
// (kernels.h), added in chunk order here.
//
//   sumSquares(tensors: Float32Array[], threads): Float64Array      per-tensor sums of squares
//   scale(tensors: Float32Array[], factor: number, threads): void    x *= Math.fround(factor)
//   adam(p, g, m, v: Float32Array[], scalars: Float32Array, threads): void
//        scalars holds kAdamScalars floats per tensor (kernels.h: AdamScalars, in declaration order)
//   isa(): string                                                     "avx512" | "avx2" | "scalar"
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "kernels.h"

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

bool float32s(napi_env env, napi_value v, Span* out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &out->length, &data, &buffer, &offset) != napi_ok) return false;
  out->data = static_cast<float*>(data);
  return type == napi_float32_array;
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
  parallel(u.size(), thread_count(env, argv[1]), [&](size_t i) {
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
  parallel(u.size(), thread_count(env, argv[2]),
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
  parallel(u.size(), thread_count(env, argv[5]), [&](size_t i) {
    const size_t t = u[i].tensor, o = u[i].offset;
    graft::adam(p[t].data + o, g[t].data + o, m[t].data + o, v[t].data + o, u[i].length, s[t]);
  });
  return nullptr;
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
  } fns[] = {{"sumSquares", sum_squares}, {"scale", scale}, {"adam", adam}, {"isa", isa}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
