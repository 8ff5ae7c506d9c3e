/*
 * napi-util.h — the small Node-API helpers every source file of the addon shares:
 * errno-coded errors, promise-returning thread-pool work, argument readers.
 * Header-only (static functions): each .c file is its own translation unit and
 * the addon stays one shared object.
 */
#ifndef NFS_LOCALIO_NAPI_UTIL_H
#define NFS_LOCALIO_NAPI_UTIL_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define NAPI_UTIL_UNUSED __attribute__((unused))
#else
#define NAPI_UTIL_UNUSED
#endif

NAPI_UTIL_UNUSED static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES)
    E(EFAULT) E(EBUSY) E(EEXIST) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
    E(EMFILE) E(ENOSPC) E(EPIPE) E(ENAMETOOLONG) E(ELOOP) E(ENOTSOCK)
    E(EMSGSIZE) E(EPROTOTYPE) E(EOPNOTSUPP) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN)
    E(ENOTCONN) E(ESHUTDOWN) E(ETIMEDOUT) E(ECONNREFUSED) E(EROFS) E(ETOOMANYREFS)
    E(ECANCELED) E(ESPIPE) E(EFBIG) E(ENOSYS) E(ENOTEMPTY) E(EXDEV)
    E(EMLINK) E(EDQUOT) E(ESTALE) E(EOVERFLOW) E(ETXTBSY) E(ENXIO) E(ENODEV)
#undef E
    default: return "EUNKNOWN";
  }
}

/* ---- helpers for the main thread ---------------------------------------- */

/* Error{code: 'EXXX', errno: -e, syscall}, or NULL if it could not be made. */
NAPI_UTIL_UNUSED static napi_value errno_error(napi_env env, const char *syscall, int e) {
  napi_value code, msg, err, num, sc;
  char text[256];
  snprintf(text, sizeof text, "%s %s: %s", syscall, errno_name(e), strerror(e));
  if (napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, code, msg, &err) != napi_ok ||
      napi_create_int32(env, -e, &num) != napi_ok ||
      napi_set_named_property(env, err, "errno", num) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) != napi_ok ||
      napi_set_named_property(env, err, "syscall", sc) != napi_ok)
    return NULL;
  return err;
}

/* Throw errno_error(syscall, e) unless an exception is pending. */
NAPI_UTIL_UNUSED static napi_value throw_errno(napi_env env, const char *syscall, int e) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return NULL;
  napi_value err = errno_error(env, syscall, e);
  if (err == NULL || napi_throw(env, err) != napi_ok) napi_throw_error(env, "EUNKNOWN", strerror(e));
  return NULL;
}

/*
 * Queue `execute` on the thread pool with `complete` back on the main thread,
 * settling a new promise (returned; its deferred and the work go to *deferred
 * and *work, for `complete` to settle and delete).  NULL when it could not be
 * set up (an exception is then pending and nothing was queued: the caller
 * frees `data`).
 */
NAPI_UTIL_UNUSED static napi_value queue_promise(napi_env env, const char *name, napi_async_execute_callback execute,
                                napi_async_complete_callback complete, void *data, napi_deferred *deferred,
                                napi_async_work *work) {
  napi_value promise, resource;
  if (napi_create_promise(env, deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, execute, complete, data, work) != napi_ok) {
    napi_throw_error(env, NULL, "fdpass: thread-pool work could not be set up");
    return NULL;
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    napi_delete_async_work(env, *work);
    napi_throw_error(env, NULL, "fdpass: thread-pool work could not be queued");
    return NULL;
  }
  return promise;
}

/* A typed array argument of type `type` (its elements and count); throws TypeError otherwise. */
NAPI_UTIL_UNUSED static int get_typed(napi_env env, napi_value v, napi_typedarray_type type, const char *what, void **data, size_t *count) {
  napi_typedarray_type tt;
  size_t boff;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &tt, count, data, &ab, &boff) != napi_ok || tt != type) {
    char m[96];
    snprintf(m, sizeof m, "%s must be a %s", what,
             type == napi_uint8_array ? "Uint8Array" : type == napi_int32_array ? "Int32Array" : "BigInt64Array");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", m);
    return 0;
  }
  return 1;
}

/* A Uint8Array argument: its bytes and length. */
NAPI_UTIL_UNUSED static int get_bytes(napi_env env, napi_value v, const char *what, char **data, size_t *len) {
  return get_typed(env, v, napi_uint8_array, what, (void **)data, len);
}

/* Evaluate a napi call; on failure throw (if nothing is pending) and return NULL. */
#define CHECK(env, call)                                                    \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      bool p_ = false;                                                      \
      napi_is_exception_pending((env), &p_);                                \
      if (!p_) napi_throw_error((env), NULL, "fdpass: " #call " failed");   \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

NAPI_UTIL_UNUSED static napi_value get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = argc; i < want; i++) CHECK(env, napi_get_undefined(env, &argv[i]));
  return argv[0];
}

/* Reads a non-negative int32 (a descriptor, a count); throws TypeError otherwise. */
NAPI_UTIL_UNUSED static int get_nonneg(napi_env env, napi_value v, const char *what, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, v, out) != napi_ok || *out < 0) {
    char m[96];
    snprintf(m, sizeof m, "%s must be a non-negative integer", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", m);
    return 0;
  }
  return 1;
}

NAPI_UTIL_UNUSED static napi_value make_int(napi_env env, int v) {
  napi_value r;
  CHECK(env, napi_create_int32(env, v, &r));
  return r;
}

#endif
