/*
 * fsdata.c — the POSIX backend's NFSv4.2 calls on open descriptors (src/storage/posix-v42.ts
 * wraps them). Linux only. Kept apart from fsat.c: those name objects, these act on one.
 *
 * dataOp(op, fd, a, b, fd2, c) → Promise<bigint>, on the thread pool (a range of a large file may
 * take a while; the event loop must not wait):
 *   SEEK_DATA / SEEK_HOLE  lseek(fd, a, whence) → the offset
 *   ALLOCATE               fallocate(fd, 0, a, b) → 0
 *   PUNCH                  fallocate(fd, PUNCH_HOLE | KEEP_SIZE, a, b) → 0
 *   COPY                   copy_file_range(fd, a, fd2, c, b) until b bytes or the source's end → bytes copied
 *   CLONE                  ioctl(fd2, FICLONERANGE, {fd, a, b, c}) → 0 (b 0: to the end)
 * The descriptors are duplicated when called, so the caller may close its own at once. Errors
 * reject with an Error whose code is the errno name.
 *
 * xattr(op, fd, name, value?, flags) → synchronously, on "/proc/self/fd/<fd>" (so O_PATH
 * descriptors serve too: f*xattr refuses them): GET → Buffer, LIST → Buffer of NUL-ended names,
 * SET → 0, REMOVE → 0; a negative number is -errno.
 */
#define _GNU_SOURCE
#include "napi-util.h"
#include "fsdata.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { OP_SEEK_DATA = 1, OP_SEEK_HOLE, OP_ALLOCATE, OP_PUNCH, OP_COPY, OP_CLONE };
enum { X_GET = 1, X_SET, X_LIST, X_REMOVE };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int op, fd, fd2;
  int64_t a, b, c;
  int64_t result;
  int err;
  const char *syscall;
} data_op_t;

static void data_op_free(data_op_t *t) {
  if (t->fd >= 0) close(t->fd);
  if (t->fd2 >= 0) close(t->fd2);
  free(t);
}

static void data_op_execute(napi_env env, void *data) {
  (void)env;
  data_op_t *t = data;
  off_t r = 0;
  switch (t->op) {
    case OP_SEEK_DATA:
    case OP_SEEK_HOLE:
      t->syscall = "lseek";
      r = lseek(t->fd, (off_t)t->a, t->op == OP_SEEK_DATA ? SEEK_DATA : SEEK_HOLE);
      break;
    case OP_ALLOCATE:
    case OP_PUNCH:
      t->syscall = "fallocate";
      r = fallocate(t->fd, t->op == OP_PUNCH ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : 0, (off_t)t->a, (off_t)t->b);
      break;
    case OP_COPY: {
      t->syscall = "copy_file_range";
      loff_t in = (loff_t)t->a, out = (loff_t)t->c;
      int64_t done = 0;
      while (done < t->b) {
        ssize_t n;
        do n = copy_file_range(t->fd, &in, t->fd2, &out, (size_t)(t->b - done > (1 << 30) ? (1 << 30) : t->b - done), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) { r = -1; break; }
        if (n == 0) break; /* the source's end */
        done += n;
      }
      if (r == 0) r = (off_t)done;
      break;
    }
    case OP_CLONE: {
      t->syscall = "ioctl(FICLONERANGE)";
      struct file_clone_range fcr = { .src_fd = t->fd, .src_offset = (uint64_t)t->a, .src_length = (uint64_t)t->b, .dest_offset = (uint64_t)t->c };
      r = ioctl(t->fd2, FICLONERANGE, &fcr);
      break;
    }
    default:
      errno = EINVAL;
      r = -1;
  }
  if (r < 0) t->err = errno;
  else t->result = r;
}

static void data_op_complete(napi_env env, napi_status status, void *data) {
  data_op_t *t = data;
  napi_value v;
  if (status == napi_ok && t->err == 0 && napi_create_bigint_int64(env, t->result, &v) == napi_ok) napi_resolve_deferred(env, t->deferred, v);
  else {
    v = errno_error(env, t->syscall ? t->syscall : "dataOp", t->err ? t->err : EIO);
    if (v == NULL) napi_get_undefined(env, &v);
    napi_reject_deferred(env, t->deferred, v);
  }
  napi_delete_async_work(env, t->work);
  data_op_free(t);
}

static int get_i64(napi_env env, napi_value v, const char *what, int64_t *out) {
  bool lossless;
  if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok || !lossless || *out < 0) {
    char m[96];
    snprintf(m, sizeof m, "%s must be a non-negative bigint", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", m);
    return 0;
  }
  return 1;
}

static napi_value js_data_op(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t op, fd, fd2;
  int64_t a, b, c;
  if (!get_args(env, info, 6, argv) || !get_nonneg(env, argv[0], "op", &op) || !get_nonneg(env, argv[1], "fd", &fd) ||
      !get_i64(env, argv[2], "a", &a) || !get_i64(env, argv[3], "b", &b) || !get_nonneg(env, argv[4], "fd2", &fd2) ||
      !get_i64(env, argv[5], "c", &c))
    return NULL;
  data_op_t *t = calloc(1, sizeof *t);
  if (!t) return throw_errno(env, "dataOp", ENOMEM);
  t->op = op;
  t->a = a;
  t->b = b;
  t->c = c;
  t->fd2 = -1;
  t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (t->fd >= 0 && (op == OP_COPY || op == OP_CLONE)) t->fd2 = fcntl(fd2, F_DUPFD_CLOEXEC, 0);
  if (t->fd < 0 || ((op == OP_COPY || op == OP_CLONE) && t->fd2 < 0)) {
    int e = errno;
    data_op_free(t);
    return throw_errno(env, "fcntl", e);
  }
  napi_value promise = queue_promise(env, "nfs-localio:dataOp", data_op_execute, data_op_complete, t, &t->deferred, &t->work);
  if (promise == NULL) data_op_free(t);
  return promise;
}

/* The largest value or name list read back (XATTR_SIZE_MAX, as the kernel's). */
#define XATTR_MAX 65536

static napi_value js_xattr(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  int32_t op, fd, flags;
  char path[64], name[XATTR_NAME_MAX + 2];
  size_t n = 0;
  if (!get_args(env, info, 5, argv) || !get_nonneg(env, argv[0], "op", &op) || !get_nonneg(env, argv[1], "fd", &fd)) return NULL;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (op != X_LIST) {
    if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &n) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "name must be a string");
      return NULL;
    }
    if (n > XATTR_NAME_MAX) return make_int(env, -ERANGE);
    CHECK(env, napi_get_value_string_utf8(env, argv[2], name, sizeof name, &n));
    if (strlen(name) != n) return make_int(env, -EINVAL);
  }
  if (op == X_GET || op == X_LIST) {
    char *buf = malloc(XATTR_MAX);
    if (!buf) return make_int(env, -ENOMEM);
    ssize_t got = op == X_GET ? getxattr(path, name, buf, XATTR_MAX) : listxattr(path, buf, XATTR_MAX);
    if (got < 0) {
      int e = errno;
      free(buf);
      return make_int(env, -e);
    }
    void *dst;
    napi_status s = napi_create_buffer_copy(env, (size_t)got, buf, &dst, &out);
    free(buf);
    CHECK(env, s);
    return out;
  }
  if (op == X_SET) {
    char *val;
    size_t len;
    if (!get_bytes(env, argv[3], "value", &val, &len) || !get_nonneg(env, argv[4], "flags", &flags)) return NULL;
    return make_int(env, setxattr(path, name, val, len, flags) < 0 ? -errno : 0);
  }
  if (op == X_REMOVE) return make_int(env, removexattr(path, name) < 0 ? -errno : 0);
  return make_int(env, -EINVAL);
}

napi_status fsdata_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "dataOp", NULL, js_data_op, NULL, NULL, NULL, napi_enumerable, NULL },
    { "xattr", NULL, js_xattr, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
