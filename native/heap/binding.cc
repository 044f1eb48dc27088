// N-API entry point of graft's heap addon (graft_heap.node): keeps freed memory in the process instead of handing
// it back to the kernel, so the next allocation of the same size reuses pages that are already mapped.
//
//   retainFreedMemory(): boolean    true when glibc took the settings (false elsewhere, e.g. musl)
//
// glibc serves blocks above its mmap threshold (at most 32 MB) with a fresh mmap and unmaps them when freed, and
// it trims the top of the heap once 128 KB or more lie free there. A training step allocates and frees the same
// large activations every step (ONNX Runtime's kernel scratch, the arrays onnxruntime-node copies outputs into),
// so each step pays a page fault per 4 KB page again. M_MMAP_MAX = 0 serves every block from the heap and a
// trim threshold beyond any heap keeps freed pages mapped: the allocator then behaves like PyTorch's caching
// allocators (or jemalloc with decay off), which reuse memory from step to step.
#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

napi_value retain_freed_memory(napi_env env, napi_callback_info) {
  bool ok = false;
#if defined(__GLIBC__)
  constexpr int kNeverTrim = 0x7fffffff;
  ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, kNeverTrim) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "retainFreedMemory", NAPI_AUTO_LENGTH, retain_freed_memory, nullptr, &fn);
  napi_set_named_property(env, exports, "retainFreedMemory", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
