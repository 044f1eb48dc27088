// N-API entry point: `preprocess(bytes, format, raw, geometry, tables, out, offset)` decodes (or takes
// raw pixels), flattens alpha, resamples, crops and normalises into `out` on libuv's thread pool, and
// returns a Promise. The caller keeps `bytes`, `tables` and `out` alive until it settles (the addon also
// holds references to them).
//
//   format   0 raw pixels (raw = Int32Array [width, height, channels 1..4]), 1 JPEG, 2 PNG
//   geometry Int32Array [outW, outH, resizeW, resizeH, cropLeft, cropTop, kernel, layout, background]
//   tables   Float32Array(768): normalised value of 8-bit level p in channel c at c * 256 + p
//   out      Float32Array receiving outH * outW * 3 floats at element `offset`
#include <fcntl.h>
#include <node_api.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <algorithm>
#include <string>
#include <vector>

#include "decode.h"
#include "resample.h"

namespace {

struct Job {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref refs[3] = {nullptr, nullptr, nullptr};
  const uint8_t* bytes = nullptr;
  size_t size = 0;
  int format = 0;
  int raw[3] = {0, 0, 0};
  int geometry[9] = {};
  graft::Target target;
  std::string error;
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
  return type == want || (want == napi_uint8_array && type == napi_uint8_clamped_array);
}

// Queues `job` on libuv's thread pool and returns the promise its completion settles.
napi_value queue(napi_env env, const char* name, napi_async_execute_callback execute,
                 napi_async_complete_callback complete, void* job, napi_deferred* deferred, napi_async_work* work) {
  napi_value promise, resource;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_create_async_work(env, nullptr, resource, execute, complete, job, work);
  napi_queue_async_work(env, *work);
  return promise;
}

void execute(napi_env, void* data) {
  auto* job = static_cast<Job*>(data);
  const int* g = job->geometry;
  // Reused per pool thread: fresh multi-100 KB buffers would cost page faults on every image.
  thread_local graft::Pixels px;
  thread_local graft::ResampleScratch scratch;
  const uint8_t background = static_cast<uint8_t>(g[8]);
  if (job->format == 0) {
    graft::flatten_alpha(job->bytes, job->raw[0], job->raw[1], job->raw[2], background, px);
  } else if (job->format == 1) {
    job->error = graft::decode_jpeg(job->bytes, job->size, g[2], g[3], px);
  } else {
    job->error = graft::decode_png(job->bytes, job->size, background, px);
  }
  if (job->error.empty()) graft::resample_into(px.data.data(), px.width, px.height, job->target, scratch);
  graft::release_if_large(px.data);
  graft::release_if_large(scratch.rows);
}

void complete(napi_env env, napi_status, void* data) {
  auto* job = static_cast<Job*>(data);
  if (job->error.empty()) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, job->error.c_str(), job->error.size(), &message);
    napi_create_error(env, nullptr, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  for (napi_ref ref : job->refs)
    if (ref) napi_delete_reference(env, ref);
  napi_delete_async_work(env, job->work);
  delete job;
}

napi_value preprocess(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 7) return throw_type(env, "preprocess: 7 arguments expected");

  void* bytes;
  size_t size;
  if (!typed(env, argv[0], napi_uint8_array, &bytes, &size))
    return throw_type(env, "preprocess: bytes must be a Uint8Array");
  int32_t format;
  if (napi_get_value_int32(env, argv[1], &format) != napi_ok || format < 0 || format > 2)
    return throw_type(env, "preprocess: format must be 0, 1 or 2");
  void* geometry;
  size_t glen;
  if (!typed(env, argv[3], napi_int32_array, &geometry, &glen) || glen != 9)
    return throw_type(env, "preprocess: geometry must be an Int32Array(9)");
  void* tables;
  size_t tlen;
  if (!typed(env, argv[4], napi_float32_array, &tables, &tlen) || tlen != 768)
    return throw_type(env, "preprocess: tables must be a Float32Array(768)");
  void* out;
  size_t olen;
  if (!typed(env, argv[5], napi_float32_array, &out, &olen))
    return throw_type(env, "preprocess: out must be a Float32Array");
  int64_t offset;
  if (napi_get_value_int64(env, argv[6], &offset) != napi_ok || offset < 0)
    return throw_type(env, "preprocess: offset must be a non-negative integer");

  auto* job = new Job();
  job->bytes = static_cast<const uint8_t*>(bytes);
  job->size = size;
  job->format = format;
  const int32_t* g = static_cast<const int32_t*>(geometry);
  for (int i = 0; i < 9; i++) job->geometry[i] = g[i];
  const bool shape_ok = g[0] > 0 && g[1] > 0 && g[2] >= g[0] && g[3] >= g[1] && g[4] >= 0 &&
                        g[5] >= 0 && g[4] + g[0] <= g[2] && g[5] + g[1] <= g[3];
  const size_t need = static_cast<size_t>(g[0]) * g[1] * 3;
  if (!shape_ok || static_cast<size_t>(offset) + need > olen) {
    delete job;
    return throw_type(env, "preprocess: geometry does not fit the output");
  }
  if (format == 0) {
    void* raw;
    size_t rlen;
    if (!typed(env, argv[2], napi_int32_array, &raw, &rlen) || rlen != 3) {
      delete job;
      return throw_type(env, "preprocess: raw must be an Int32Array(3) for raw pixels");
    }
    const int32_t* r = static_cast<const int32_t*>(raw);
    if (r[0] <= 0 || r[1] <= 0 || r[2] < 1 || r[2] > 4 ||
        static_cast<size_t>(r[0]) * r[1] * r[2] != size) {
      delete job;
      return throw_type(env, "preprocess: raw dimensions do not match the bytes");
    }
    for (int i = 0; i < 3; i++) job->raw[i] = r[i];
  }
  graft::Target& t = job->target;
  t.out_w = g[0], t.out_h = g[1], t.resize_w = g[2], t.resize_h = g[3];
  t.crop_left = g[4], t.crop_top = g[5];
  t.kernel = g[6] == 0 ? graft::Kernel::Nearest : graft::Kernel::Linear;
  t.layout = g[7] == 0 ? graft::Layout::NHWC : graft::Layout::NCHW;
  t.tables = static_cast<const float*>(tables);
  t.out = static_cast<float*>(out) + offset;
  napi_create_reference(env, argv[0], 1, &job->refs[0]);
  napi_create_reference(env, argv[4], 1, &job->refs[1]);
  napi_create_reference(env, argv[5], 1, &job->refs[2]);

  return queue(env, "graft.preprocess", execute, complete, job, &job->deferred, &job->work);
}

// readFiles(paths): reads whole files on libuv's thread pool, in one job, and resolves to an array with a
// Buffer per path (null where it cannot be read). A caller whose thread is about to block (ONNX Runtime's run)
// gets its next files read meanwhile; fs.promises needs several JavaScript steps per file.
struct ReadJob {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  std::vector<std::string> paths;
  std::vector<std::pair<uint8_t*, size_t>> files;  // (nullptr, 0) where reading failed
};

std::pair<uint8_t*, size_t> read_whole(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {nullptr, 0};
  struct stat st;
  uint8_t* data = nullptr;
  size_t size = 0;
  // Regular files up to 1 GiB (an image larger than that is not one graft decodes; its path goes on to the
  // decoder, which says so).
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (1LL << 30)) {
    size = static_cast<size_t>(st.st_size);
    data = static_cast<uint8_t*>(std::malloc(size > 0 ? size : 1));
    size_t got = 0;
    while (data && got < size) {
      const ssize_t n = read(fd, data + got, size - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (data && got != size) std::free(data), data = nullptr;
  }
  close(fd);
  return {data, data ? size : 0};
}

void read_execute(napi_env, void* data) {
  auto* job = static_cast<ReadJob*>(data);
  job->files.reserve(job->paths.size());
  for (const std::string& p : job->paths) job->files.push_back(read_whole(p));
}

void read_complete(napi_env env, napi_status, void* data) {
  auto* job = static_cast<ReadJob*>(data);
  napi_value array;
  napi_create_array_with_length(env, job->files.size(), &array);
  for (size_t i = 0; i < job->files.size(); i++) {
    auto [bytes, size] = job->files[i];
    napi_value v;
    if (!bytes) {
      napi_get_null(env, &v);
    } else if (napi_create_external_buffer(
                   env, size, bytes, [](napi_env, void* d, void*) { std::free(d); }, nullptr, &v) != napi_ok) {
      // Runtimes that forbid external buffers get a copy.
      napi_create_buffer_copy(env, size, bytes, nullptr, &v);
      std::free(bytes);
    }
    napi_set_element(env, array, static_cast<uint32_t>(i), v);
  }
  napi_resolve_deferred(env, job->deferred, array);
  napi_delete_async_work(env, job->work);
  delete job;
}

napi_value read_files(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return throw_type(env, "readFiles: paths must be an array of strings");
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  auto* job = new ReadJob();
  job->paths.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(env, argv[0], i, &v);
    if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
      delete job;
      return throw_type(env, "readFiles: paths must be an array of strings");
    }
    std::string path(len, '\0');
    napi_get_value_string_utf8(env, v, path.data(), len + 1, &len);
    job->paths.push_back(std::move(path));
  }
  return queue(env, "graft.readFiles", read_execute, read_complete, job, &job->deferred, &job->work);
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "preprocess", NAPI_AUTO_LENGTH, preprocess, nullptr, &fn);
  napi_set_named_property(env, exports, "preprocess", fn);
  napi_create_function(env, "readFiles", NAPI_AUTO_LENGTH, read_files, nullptr, &fn);
  napi_set_named_property(env, exports, "readFiles", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
