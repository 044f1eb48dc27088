// N-API entry points of graft's convolution addon (graft_conv.node). All calls are synchronous and write into
// the caller's preallocated Float32Arrays.
//
//   geometry: Int32Array [n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr]   (input NCHW, kernel, strides, pads)
//   depthwiseForward(x, w, bias: Float32Array | null, y, geometry, threads): void
//   depthwiseGradInput(dy, w, dx, geometry, threads): void
//   depthwiseGradWeight(x, dy, dw, geometry, threads): void
//   isa(): string                                                    "avx512" | "avx2" | "scalar"
#include <node_api.h>

#include <algorithm>
#include <cstdint>

#include "depthwise.h"

namespace {

struct Floats {
  float* data = nullptr;
  size_t length = 0;
};

napi_value throw_type(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

bool typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) return false;
  return type == want;
}

bool floats(napi_env env, napi_value v, Floats* out) {
  void* data = nullptr;
  if (!typed(env, v, napi_float32_array, &data, &out->length)) return false;
  out->data = static_cast<float*>(data);
  return true;
}

bool is_null(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

bool geometry(napi_env env, napi_value v, graft::DepthwiseGeometry* g) {
  void* data = nullptr;
  size_t length = 0;
  if (!typed(env, v, napi_int32_array, &data, &length) || length != 12) return false;
  const int32_t* d = static_cast<const int32_t*>(data);
  *g = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], 0, 0};
  return graft::depthwise_resolve(g);
}

int thread_count(napi_env env, napi_value v) {
  int32_t t = 1;
  if (napi_get_value_int32(env, v, &t) != napi_ok) return 1;
  return std::clamp(t, 1, 64);
}

size_t input_size(const graft::DepthwiseGeometry& g) { return size_t(g.n) * g.c * g.h * g.w; }
size_t output_size(const graft::DepthwiseGeometry& g) { return size_t(g.n) * g.c * g.ho * g.wo; }
size_t weight_size(const graft::DepthwiseGeometry& g) { return size_t(g.c) * g.kh * g.kw; }

napi_value forward(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Floats x, w, bias, y;
  graft::DepthwiseGeometry g;
  const bool no_bias = argc >= 3 && is_null(env, argv[2]);
  if (argc < 6 || !floats(env, argv[0], &x) || !floats(env, argv[1], &w) ||
      (!no_bias && !floats(env, argv[2], &bias)) || !floats(env, argv[3], &y) || !geometry(env, argv[4], &g))
    return throw_type(env, "depthwiseForward: expected x, w, bias | null, y: Float32Array, geometry: Int32Array(12), threads");
  if (x.length != input_size(g) || w.length != weight_size(g) || y.length != output_size(g) ||
      (!no_bias && bias.length != size_t(g.c)))
    return throw_type(env, "depthwiseForward: array lengths do not match the geometry");
  graft::depthwise_forward(g, x.data, w.data, no_bias ? nullptr : bias.data, y.data, thread_count(env, argv[5]));
  return nullptr;
}

napi_value grad_input(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Floats dy, w, dx;
  graft::DepthwiseGeometry g;
  if (argc < 5 || !floats(env, argv[0], &dy) || !floats(env, argv[1], &w) || !floats(env, argv[2], &dx) ||
      !geometry(env, argv[3], &g))
    return throw_type(env, "depthwiseGradInput: expected dy, w, dx: Float32Array, geometry: Int32Array(12), threads");
  if (dy.length != output_size(g) || w.length != weight_size(g) || dx.length != input_size(g))
    return throw_type(env, "depthwiseGradInput: array lengths do not match the geometry");
  graft::depthwise_grad_input(g, dy.data, w.data, dx.data, thread_count(env, argv[4]));
  return nullptr;
}

napi_value grad_weight(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Floats x, dy, dw;
  graft::DepthwiseGeometry g;
  if (argc < 5 || !floats(env, argv[0], &x) || !floats(env, argv[1], &dy) || !floats(env, argv[2], &dw) ||
      !geometry(env, argv[3], &g))
    return throw_type(env, "depthwiseGradWeight: expected x, dy, dw: Float32Array, geometry: Int32Array(12), threads");
  if (x.length != input_size(g) || dy.length != output_size(g) || dw.length != weight_size(g))
    return throw_type(env, "depthwiseGradWeight: array lengths do not match the geometry");
  graft::depthwise_grad_weight(g, x.data, dy.data, dw.data, thread_count(env, argv[4]));
  return nullptr;
}

napi_value isa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, graft::depthwise_isa(), NAPI_AUTO_LENGTH, &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"depthwiseForward", forward},
             {"depthwiseGradInput", grad_input},
             {"depthwiseGradWeight", grad_weight},
             {"isa", isa}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
