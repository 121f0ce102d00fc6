/*
 * hugepages.node: asks Linux to back a typed array's memory with transparent huge pages
 * (madvise MADV_HUGEPAGE). The one thing here that JavaScript cannot do itself; no numerics.
 * Built from source by `npm ci` (node-gyp, with Node's own headers); nn runs without it.
 *
 *   advise(view, bytes) -> { start, length }   the 2 MiB-aligned part of [view, view + bytes)
 *                                              that was advised (length 0 when none fits);
 *                                              throws with the system's reason when madvise fails
 */
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value advise(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer;
  double bytes;
  if (argc < 2 || napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, NULL, "advise(view, bytes): expected a typed array and a byte count");
    return NULL;
  }
  uintptr_t begin = (uintptr_t)data, end = begin + (uintptr_t)bytes;
  uintptr_t start = (begin + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), stop = end & ~(HUGE_PAGE - 1);
  if (stop < start) stop = start;
  if (stop > start && madvise((void *)start, stop - start, MADV_HUGEPAGE) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "start", number(env, (double)start));
  napi_set_named_property(env, out, "length", number(env, (double)(stop - start)));
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "advise", NAPI_AUTO_LENGTH, advise, NULL, &fn);
  napi_set_named_property(env, exports, "advise", fn);
  return exports;
}
