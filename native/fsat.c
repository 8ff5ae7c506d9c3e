/*
 * fsat.c — the POSIX backend's calls relative to directory descriptors
 * (src/storage/posix-at.ts wraps them). Linux only.
 *
 * Every namespace and attribute call names one component under a directory
 * descriptor, never a path: a name holding '/' is EINVAL, "." and ".." are
 * refused except where an operation means them. So no call walks more than one
 * component, no path is longer than NAME_MAX, and none follows a symbolic link:
 * opens go through openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS (openat with O_NOFOLLOW where the kernel or a seccomp
 * profile has no openat2: ENOSYS; one component under a directory we hold is
 * just as confined), the rest are the *at calls with AT_SYMLINK_NOFOLLOW or
 * calls that never follow (mkdirat, mknodat, symlinkat, linkat without
 * AT_SYMLINK_FOLLOW, renameat2, unlinkat). What a local process swaps in
 * concurrently can change which object a name means, never make a call act
 * outside the directory the descriptor holds.
 *
 * Calls that may wait (namespace changes, opens) run on the thread pool
 * (fsAt → Promise); the metadata calls the event loop makes by the thousand
 * (statAt, opening O_PATH descriptors, readlinkAt) are synchronous, as the
 * backend measured lstat to be cheaper than a thread-pool hop.
 */
#define _GNU_SOURCE
#include "napi-util.h"
#include "fsat.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

/*
 * statAt(dirFd, name, out: BigInt64Array) → 0 or -errno: statx(2) of `name`
 * relative to dirFd, not following a final symlink, into out[0..16]:
 *   dev ino mode nlink uid gid rdev size blocks
 *   atime.sec atime.nsec mtime.sec mtime.nsec ctime.sec ctime.nsec btime.sec btime.nsec
 * (the layout STAT_AT in src/storage/posix-util.ts reads). The flags, mask and
 * conversions are libuv's (uv__fs_statx: dev and rdev through makedev, stx_btime
 * copied whatever stx_mask says, 64-bit values as int64 like Node's BigInt64Array),
 * so the values are exactly those of fs.lstatSync(path, { bigint: true }), minus
 * the BigIntStats object and its Dates, and the lookup walks one component
 * instead of the whole path. READDIRPLUS stats every entry it returns with it.
 * Allocates nothing: the name is copied to the stack, the caller's array reused.
 * An empty name stats dirFd itself (AT_EMPTY_PATH: any descriptor, O_PATH ones too).
 */
#define STAT_AT_FIELDS 17

static int stat_into(int dirfd, const char *name, int64_t *o);

static napi_value js_stat_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd;
  size_t n = 0, n_el;
  char name[PATH_MAX];
  void *data;
  if (!get_args(env, info, 3, argv) || !get_nonneg(env, argv[0], "dirFd", &dirfd)) return NULL;
  /* The full UTF-8 length first: a copy cut at a character boundary would name another file. */
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "name must be a string");
    return NULL;
  }
  if (!get_typed(env, argv[2], napi_bigint64_array, "out", &data, &n_el)) return NULL;
  if (n_el < STAT_AT_FIELDS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "out must have at least 17 elements");
    return NULL;
  }
  if (n >= sizeof name) return make_int(env, -ENAMETOOLONG);
  CHECK(env, napi_get_value_string_utf8(env, argv[1], name, sizeof name, &n));
  if (strlen(name) != n) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "name must not contain NUL");
    return NULL;
  }
  return make_int(env, stat_into(dirfd, name, data));
}

/* statx of `name` under `dirfd` into o[0..16] (the STAT_AT layout): 0 or -errno. */
static int stat_into(int dirfd, const char *name, int64_t *o) {
  struct statx stx;
  int r;
  /* An empty name is the descriptor itself (an O_PATH one included). */
  int flags = AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT | (name[0] == 0 ? AT_EMPTY_PATH : 0);
  do r = statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &stx);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  o[0] = (int64_t)makedev(stx.stx_dev_major, stx.stx_dev_minor);
  o[1] = (int64_t)stx.stx_ino;
  o[2] = stx.stx_mode;
  o[3] = stx.stx_nlink;
  o[4] = stx.stx_uid;
  o[5] = stx.stx_gid;
  o[6] = (int64_t)makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
  o[7] = (int64_t)stx.stx_size;
  o[8] = (int64_t)stx.stx_blocks;
  o[9] = stx.stx_atime.tv_sec;
  o[10] = stx.stx_atime.tv_nsec;
  o[11] = stx.stx_mtime.tv_sec;
  o[12] = stx.stx_mtime.tv_nsec;
  o[13] = stx.stx_ctime.tv_sec;
  o[14] = stx.stx_ctime.tv_nsec;
  o[15] = stx.stx_btime.tv_sec;
  o[16] = stx.stx_btime.tv_nsec;
  return 0;
}

/*
 * statMany(dirFd, names: Uint8Array, out: BigInt64Array, status: Int32Array)
 * → Promise<void>: statAt of every name on the thread pool; `names` holds them
 * as UTF-8, each ended by a NUL (file names cannot contain one), and entry i
 * goes into out[17 i .. 17 i + 16], its result (0 or -errno) into status[i]
 * (the count is status.length).  A listing page's entries are stat'ed this way
 * ahead of the request that will need them, on the other core, while the event
 * loop encodes the page before.  The names are copied and the directory
 * descriptor duplicated when called, so the caller may reuse or close its own
 * at once; it must not touch `out` and `status` until the promise settles.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref out_ref, status_ref;
  int dirfd;
  uint32_t count;
  char *names; /* count NUL-terminated names, back to back */
  int64_t *out;
  int32_t *status;
} stat_many_t;

static void stat_many_free(napi_env env, stat_many_t *t) {
  free(t->names);
  if (t->dirfd >= 0) close(t->dirfd);
  if (t->out_ref) napi_delete_reference(env, t->out_ref);
  if (t->status_ref) napi_delete_reference(env, t->status_ref);
  free(t);
}

static void stat_many_execute(napi_env env, void *data) {
  (void)env;
  stat_many_t *t = data;
  const char *name = t->names;
  for (uint32_t i = 0; i < t->count; i++) {
    t->status[i] = stat_into(t->dirfd, name, t->out + (size_t)i * STAT_AT_FIELDS);
    name += strlen(name) + 1;
  }
}

static void stat_many_complete(napi_env env, napi_status status, void *data) {
  stat_many_t *t = data;
  napi_value undef;
  napi_get_undefined(env, &undef);
  if (status == napi_ok) {
    napi_resolve_deferred(env, t->deferred, undef);
  } else {
    napi_value err, msg;
    napi_create_string_utf8(env, "statMany was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, t->deferred, err);
  }
  napi_delete_async_work(env, t->work);
  stat_many_free(env, t);
}

static napi_value js_stat_many(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t dirfd;
  char *names;
  size_t names_len, n_out, n_status;
  void *out, *st;
  if (!get_args(env, info, 4, argv) || !get_nonneg(env, argv[0], "dirFd", &dirfd) ||
      !get_bytes(env, argv[1], "names", &names, &names_len) ||
      !get_typed(env, argv[3], napi_int32_array, "status", &st, &n_status) ||
      !get_typed(env, argv[2], napi_bigint64_array, "out", &out, &n_out))
    return NULL;
  if (n_out < n_status * STAT_AT_FIELDS) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "out must have 17 elements per name");
    return NULL;
  }
  /* Exactly status.length names, each NUL-terminated, none empty: checked before anything runs. */
  size_t seen = 0, at = 0;
  while (at < names_len) {
    const char *end = memchr(names + at, 0, names_len - at);
    if (end == NULL || end == names + at) break;
    seen++;
    at = (size_t)(end - names) + 1;
  }
  if (seen != n_status || at != names_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "names must hold status.length non-empty NUL-terminated names");
    return NULL;
  }
  stat_many_t *t = calloc(1, sizeof *t);
  if (!t) return throw_errno(env, "statMany", ENOMEM);
  t->dirfd = -1;
  t->count = (uint32_t)n_status;
  t->names = malloc(names_len ? names_len : 1);
  if (!t->names) { stat_many_free(env, t); return throw_errno(env, "statMany", ENOMEM); }
  memcpy(t->names, names, names_len);
  t->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (t->dirfd < 0) { int e = errno; stat_many_free(env, t); return throw_errno(env, "fcntl", e); }
  t->out = out;
  t->status = st;
  if (napi_create_reference(env, argv[2], 1, &t->out_ref) != napi_ok ||
      napi_create_reference(env, argv[3], 1, &t->status_ref) != napi_ok) {
    stat_many_free(env, t);
    napi_throw_error(env, NULL, "fdpass: statMany could not hold its arrays");
    return NULL;
  }
  napi_value promise = queue_promise(env, "nfs-localio:statMany", stat_many_execute, stat_many_complete, t, &t->deferred, &t->work);
  if (promise == NULL) stat_many_free(env, t);
  return promise;
}


/* ---- the *at family ---------------------------------------------------- */

enum {
  FS_OPEN = 1,    /* fd1 name1, a = flags, b = mode → a descriptor */
  FS_MKDIR = 2,   /* fd1 name1, a = mode */
  FS_MKNOD = 3,   /* fd1 name1, a = mode with the type bits, b = major, c = minor */
  FS_SYMLINK = 4, /* fd1 name1 (the new name), name2 = target */
  FS_LINK = 5,    /* fd1 name1 → fd2 name2 (a symlink is linked, not followed) */
  FS_RENAME = 6,  /* fd1 name1 → fd2 name2, a = renameat2 flags */
  FS_UNLINK = 7,  /* fd1 name1, a = 0 or AT_REMOVEDIR */
  FS_CHOWN = 8,   /* fd1 name1 ("" = fd1 itself), a = uid, b = gid (-1 keeps) */
  FS_CHMOD = 9,   /* fd1 itself (an O_PATH one too; never a symlink: EOPNOTSUPP), a = mode */
  FS_UTIMES = 10, /* fd1 name1 ("" = itself): a/b atime sec/nsec, c/d mtime (nsec UTIME_NOW, UTIME_OMIT) */
  FS_PARENT = 11, /* fd1's ".." as an O_PATH descriptor */
};

/* Longest symlink target: PATH_MAX with its NUL, what symlink(2) takes. */
#define TARGET_MAX (PATH_MAX - 1)

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int op, fd1, fd2, dup1, dup2;
  int64_t a, b, c, d;
  int result; /* >= 0, or -errno */
  char name1[NAME_MAX + 2];
  char name2[PATH_MAX + 1];
} fs_op_t;

static int openat2_ok = 1; /* cleared once the kernel says ENOSYS */

static const char *op_syscall(int op) {
  switch (op) {
    case FS_OPEN: return "openat2";
    case FS_MKDIR: return "mkdirat";
    case FS_MKNOD: return "mknodat";
    case FS_SYMLINK: return "symlinkat";
    case FS_LINK: return "linkat";
    case FS_RENAME: return "renameat2";
    case FS_UNLINK: return "unlinkat";
    case FS_CHOWN: return "fchownat";
    case FS_CHMOD: return "fchmod";
    case FS_UTIMES: return "utimensat";
    case FS_PARENT: return "openat";
    default: return "fsAt";
  }
}

/* One component under dirfd, never followed if a symlink; flags gain O_NOFOLLOW | O_CLOEXEC. */
static int open_beneath(int dirfd, const char *name, int flags, mode_t mode) {
  flags |= O_NOFOLLOW | O_CLOEXEC;
#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
  if (__atomic_load_n(&openat2_ok, __ATOMIC_RELAXED)) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.mode = (flags & O_CREAT) == O_CREAT || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long r;
    do r = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
    while (r < 0 && errno == EINTR);
    if (r >= 0 || errno != ENOSYS) return (int)r;
    __atomic_store_n(&openat2_ok, 0, __ATOMIC_RELAXED);
  }
#endif
  int r;
  do r = openat(dirfd, name, flags, mode);
  while (r < 0 && errno == EINTR);
  return r;
}

/* Which names an operation takes: 0 = a plain component, 1 = "" allowed (the descriptor itself). */
static int check_name(const char *n, int empty_ok) {
  if (n[0] == 0) return empty_ok ? 0 : -ENOENT;
  if (strchr(n, '/') != NULL) return -EINVAL;
  if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) return -EINVAL;
  return 0;
}

static int run_op(fs_op_t *t) {
  int fd1 = t->dup1 >= 0 ? t->dup1 : t->fd1, fd2 = t->dup2 >= 0 ? t->dup2 : t->fd2;
  int self = t->op == FS_CHOWN || t->op == FS_UTIMES;
  int e = t->op == FS_CHMOD || t->op == FS_PARENT ? 0 : check_name(t->name1, self);
  if (e == 0 && (t->op == FS_LINK || t->op == FS_RENAME)) e = check_name(t->name2, 0);
  if (e < 0) return e;
  int r;
  switch (t->op) {
    case FS_OPEN: r = open_beneath(fd1, t->name1, (int)t->a, (mode_t)t->b); break;
    case FS_MKDIR: r = mkdirat(fd1, t->name1, (mode_t)t->a); break;
    case FS_MKNOD: r = mknodat(fd1, t->name1, (mode_t)t->a, makedev((unsigned)t->b, (unsigned)t->c)); break;
    case FS_SYMLINK: r = symlinkat(t->name2, fd1, t->name1); break;
    case FS_LINK: r = linkat(fd1, t->name1, fd2, t->name2, 0); break;
    case FS_RENAME: r = renameat2(fd1, t->name1, fd2, t->name2, (unsigned)t->a); break;
    case FS_UNLINK: r = unlinkat(fd1, t->name1, (int)t->a); break;
    case FS_CHOWN:
      r = fchownat(fd1, t->name1, (uid_t)t->a, (gid_t)t->b, AT_SYMLINK_NOFOLLOW | (t->name1[0] ? 0 : AT_EMPTY_PATH));
      break;
    case FS_CHMOD: {
      struct stat st;
      r = fstat(fd1, &st);
      if (r == 0 && S_ISLNK(st.st_mode)) { errno = EOPNOTSUPP; r = -1; break; }
      if (r == 0) r = fchmod(fd1, (mode_t)t->a);
      if (r < 0 && errno == EBADF) {
        /* An O_PATH descriptor: its /proc link reaches exactly that inode (glibc's fchmodat does the same). */
        char p[40];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd1);
        r = chmod(p, (mode_t)t->a);
      }
      break;
    }
    case FS_UTIMES: {
      struct timespec ts[2] = { { (time_t)t->a, (long)t->b }, { (time_t)t->c, (long)t->d } };
      r = utimensat(fd1, t->name1, ts, AT_SYMLINK_NOFOLLOW | (t->name1[0] ? 0 : AT_EMPTY_PATH));
      break;
    }
    case FS_PARENT: r = openat(fd1, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); break;
    default: errno = EINVAL; r = -1;
  }
  return r < 0 ? -errno : r;
}

/* A string argument into buf (size bytes with its NUL): 1, or 0 with *err = -ENAMETOOLONG / -EINVAL. */
static int get_str(napi_env env, napi_value v, const char *what, char *buf, size_t size, int *err) {
  size_t n = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char m[64];
    snprintf(m, sizeof m, "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", m);
    return 0;
  }
  /* The full UTF-8 length first: a copy cut at a character boundary would name another file. */
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return 0;
  if (n >= size) { *err = -ENAMETOOLONG; buf[0] = 0; return 1; }
  if (napi_get_value_string_utf8(env, v, buf, size, &n) != napi_ok) return 0;
  if (strlen(buf) != n) *err = -EINVAL; /* an embedded NUL would name something else */
  return 1;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_undefined) { *out = 0; return 1; }
  if (t != napi_number || napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fsAt: numeric arguments must be numbers");
    return 0;
  }
  return 1;
}

/*
 * (op, fd1, name1, fd2, name2, a, b, c, d) into t; 0 when an exception is
 * pending. A name too long or holding a NUL sets t->result (the call then
 * fails with that errno without running).
 */
static int parse_op(napi_env env, napi_callback_info info, fs_op_t *t) {
  napi_value argv[9];
  int32_t op, fd1, fd2 = 0;
  int err = 0;
  if (!get_args(env, info, 9, argv) || !get_nonneg(env, argv[0], "op", &op) || !get_nonneg(env, argv[1], "fd1", &fd1))
    return 0;
  napi_valuetype ty;
  if (napi_typeof(env, argv[3], &ty) != napi_ok) return 0;
  if (ty != napi_undefined && !get_nonneg(env, argv[3], "fd2", &fd2)) return 0;
  t->op = op;
  t->fd1 = fd1;
  t->fd2 = fd2;
  t->dup1 = t->dup2 = -1;
  t->name2[0] = 0;
  if (!get_str(env, argv[2], "name1", t->name1, sizeof t->name1, &err)) return 0;
  if (napi_typeof(env, argv[4], &ty) != napi_ok) return 0;
  if (ty != napi_undefined) {
    size_t cap = op == FS_SYMLINK ? TARGET_MAX + 1 : NAME_MAX + 1;
    if (!get_str(env, argv[4], "name2", t->name2, cap, &err)) return 0;
  }
  if (!get_i64(env, argv[5], &t->a) || !get_i64(env, argv[6], &t->b) || !get_i64(env, argv[7], &t->c) ||
      !get_i64(env, argv[8], &t->d))
    return 0;
  if (op == FS_SYMLINK && err == 0 && t->name2[0] == 0) err = -ENOENT;
  t->result = err;
  return 1;
}

/* fsAtSync(op, fd1, name1, fd2?, name2?, a?, b?, c?, d?) → result >= 0 (a descriptor for opens), or -errno. */
static napi_value js_fs_at_sync(napi_env env, napi_callback_info info) {
  fs_op_t t;
  if (!parse_op(env, info, &t)) return NULL;
  return make_int(env, t.result < 0 ? t.result : run_op(&t));
}

static void fs_op_execute(napi_env env, void *data) {
  (void)env;
  fs_op_t *t = data;
  if (t->result == 0) t->result = run_op(t);
}

static void fs_op_free(fs_op_t *t) {
  if (t->dup1 >= 0) close(t->dup1);
  if (t->dup2 >= 0) close(t->dup2);
  free(t);
}

static void fs_op_complete(napi_env env, napi_status status, void *data) {
  fs_op_t *t = data;
  napi_value v;
  if (status != napi_ok) t->result = -ECANCELED;
  if (t->result >= 0) {
    napi_create_int32(env, t->result, &v);
    napi_resolve_deferred(env, t->deferred, v);
  } else {
    v = errno_error(env, op_syscall(t->op), -t->result);
    if (v == NULL) napi_get_undefined(env, &v);
    napi_reject_deferred(env, t->deferred, v);
  }
  napi_delete_async_work(env, t->work);
  fs_op_free(t);
}

/*
 * fsAt(op, fd1, name1, fd2?, name2?, a?, b?, c?, d?) → Promise<number>: the same
 * calls on the thread pool, rejecting with an errno-coded Error (syscall named).
 * The descriptors are duplicated for the call, so a caller closing its own
 * meanwhile can never make the call act on whatever reuses the number.
 */
static napi_value js_fs_at(napi_env env, napi_callback_info info) {
  fs_op_t *t = calloc(1, sizeof *t);
  if (!t) return throw_errno(env, "fsAt", ENOMEM);
  if (!parse_op(env, info, t)) { free(t); return NULL; }
  if (t->result == 0) {
    t->dup1 = fcntl(t->fd1, F_DUPFD_CLOEXEC, 0);
    if (t->dup1 < 0) t->result = -errno;
    else if (t->op == FS_LINK || t->op == FS_RENAME) {
      t->dup2 = fcntl(t->fd2, F_DUPFD_CLOEXEC, 0);
      if (t->dup2 < 0) t->result = -errno;
    }
  }
  napi_value promise = queue_promise(env, "nfs-localio:fsAt", fs_op_execute, fs_op_complete, t, &t->deferred, &t->work);
  if (promise == NULL) fs_op_free(t);
  return promise;
}

/* readlinkAt(fd, name) → the target (name "" = fd itself, an O_PATH symlink descriptor), or -errno. */
static napi_value js_readlink_at(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  int32_t fd;
  int err = 0;
  char name[NAME_MAX + 2], buf[PATH_MAX + 1];
  if (!get_args(env, info, 2, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  if (!get_str(env, argv[1], "name", name, sizeof name, &err)) return NULL;
  if (err == 0) err = check_name(name, 1);
  if (err < 0) return make_int(env, err);
  ssize_t n = readlinkat(fd, name, buf, sizeof buf);
  if (n < 0) return make_int(env, -errno);
  if ((size_t)n >= sizeof buf) return make_int(env, -ENAMETOOLONG);
  CHECK(env, napi_create_string_utf8(env, buf, (size_t)n, &out));
  return out;
}

/* statfsAt(fd, out: BigInt64Array(6)) → 0 or -errno: block size, blocks, free, available, files, free files. */
static napi_value js_statfs_at(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t n;
  if (!get_args(env, info, 2, argv) || !get_nonneg(env, argv[0], "fd", &fd) ||
      !get_typed(env, argv[1], napi_bigint64_array, "out", &data, &n))
    return NULL;
  if (n < 6) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "out must have at least 6 elements");
    return NULL;
  }
  struct statfs s;
  if (fstatfs(fd, &s) < 0) return make_int(env, -errno);
  int64_t *o = data;
  o[0] = (int64_t)(s.f_frsize ? s.f_frsize : s.f_bsize);
  o[1] = (int64_t)s.f_blocks;
  o[2] = (int64_t)s.f_bfree;
  o[3] = (int64_t)s.f_bavail;
  o[4] = (int64_t)s.f_files;
  o[5] = (int64_t)s.f_ffree;
  return make_int(env, 0);
}

/* ---- listing ------------------------------------------------------------ */

/*
 * readdirAt(fd) → Promise<{ names: string[], inos: BigInt64Array }>: every
 * entry but "." and ".." of the directory fd holds (an O_PATH descriptor is
 * fine: it is reopened for reading), with its inode number from getdents64 —
 * what fs.readdir gives without the numbers. Runs on the thread pool.
 */
#define LIST_MAX_BYTES ((size_t)1 << 30)

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd, err;
  char *names; /* NUL-terminated, back to back */
  size_t names_len, names_cap;
  int64_t *inos;
  size_t count, inos_cap;
} list_t;

static void list_free(list_t *l) {
  if (l->fd >= 0) close(l->fd);
  free(l->names);
  free(l->inos);
  free(l);
}

static int list_add(list_t *l, const char *name, uint64_t ino) {
  size_t n = strlen(name) + 1;
  if (l->names_len + n > l->names_cap) {
    size_t cap = l->names_cap ? l->names_cap * 2 : 4096;
    while (cap < l->names_len + n) cap *= 2;
    if (cap > LIST_MAX_BYTES) return -EFBIG;
    char *p = realloc(l->names, cap);
    if (!p) return -ENOMEM;
    l->names = p;
    l->names_cap = cap;
  }
  if (l->count == l->inos_cap) {
    size_t cap = l->inos_cap ? l->inos_cap * 2 : 256;
    int64_t *p = realloc(l->inos, cap * sizeof *p);
    if (!p) return -ENOMEM;
    l->inos = p;
    l->inos_cap = cap;
  }
  memcpy(l->names + l->names_len, name, n);
  l->names_len += n;
  l->inos[l->count++] = (int64_t)ino;
  return 0;
}

static void list_execute(napi_env env, void *data) {
  (void)env;
  list_t *l = data;
  int fd = openat(l->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    /* No search permission on the directory itself: its /proc link opens it all the same. */
    char p[40];
    snprintf(p, sizeof p, "/proc/self/fd/%d", l->fd);
    fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) { l->err = -errno; return; }
  char buf[32768];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { l->err = -errno; break; }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      int e = list_add(l, d->d_name, d->d_ino);
      if (e < 0) { l->err = e; close(fd); return; }
    }
  }
  close(fd);
}

static void list_complete(napi_env env, napi_status status, void *data) {
  list_t *l = data;
  napi_value result, names, inos, ab, s;
  if (status != napi_ok) l->err = -ECANCELED;
  if (l->err < 0) {
    napi_value e = errno_error(env, "getdents64", -l->err);
    if (e == NULL) napi_get_undefined(env, &e);
    napi_reject_deferred(env, l->deferred, e);
  } else {
    void *dst;
    int ok = napi_create_object(env, &result) == napi_ok && napi_create_array_with_length(env, l->count, &names) == napi_ok &&
             napi_create_arraybuffer(env, l->count * 8, &dst, &ab) == napi_ok &&
             napi_create_typedarray(env, napi_bigint64_array, l->count, ab, 0, &inos) == napi_ok;
    if (ok && l->count) memcpy(dst, l->inos, l->count * 8);
    const char *p = l->names;
    for (size_t i = 0; ok && i < l->count; i++) {
      size_t n = strlen(p);
      ok = napi_create_string_utf8(env, p, n, &s) == napi_ok && napi_set_element(env, names, (uint32_t)i, s) == napi_ok;
      p += n + 1;
    }
    ok = ok && napi_set_named_property(env, result, "names", names) == napi_ok &&
         napi_set_named_property(env, result, "inos", inos) == napi_ok;
    if (ok) napi_resolve_deferred(env, l->deferred, result);
    else {
      napi_value e = errno_error(env, "getdents64", ENOMEM);
      if (e == NULL) napi_get_undefined(env, &e);
      napi_reject_deferred(env, l->deferred, e);
    }
  }
  napi_delete_async_work(env, l->work);
  list_free(l);
}

static napi_value js_readdir_at(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  list_t *l = calloc(1, sizeof *l);
  if (!l) return throw_errno(env, "readdirAt", ENOMEM);
  l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (l->fd < 0) { int e = errno; free(l); return throw_errno(env, "fcntl", e); }
  napi_value promise = queue_promise(env, "nfs-localio:readdirAt", list_execute, list_complete, l, &l->deferred, &l->work);
  if (promise == NULL) list_free(l);
  return promise;
}

/* openat2Active() → false once the kernel answered ENOSYS (opens then use openat with O_NOFOLLOW). */
static napi_value js_openat2_active(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(env, napi_get_boolean(env, __atomic_load_n(&openat2_ok, __ATOMIC_RELAXED) != 0, &v));
  return v;
}

static napi_status set_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  napi_status s = napi_create_int64(env, v, &n);
  return s != napi_ok ? s : napi_set_named_property(env, obj, name, n);
}

napi_status fsat_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "statAt", NULL, js_stat_at, NULL, NULL, NULL, napi_enumerable, NULL },
    { "statMany", NULL, js_stat_many, NULL, NULL, NULL, napi_enumerable, NULL },
    { "fsAt", NULL, js_fs_at, NULL, NULL, NULL, napi_enumerable, NULL },
    { "fsAtSync", NULL, js_fs_at_sync, NULL, NULL, NULL, napi_enumerable, NULL },
    { "readdirAt", NULL, js_readdir_at, NULL, NULL, NULL, napi_enumerable, NULL },
    { "readlinkAt", NULL, js_readlink_at, NULL, NULL, NULL, napi_enumerable, NULL },
    { "statfsAt", NULL, js_statfs_at, NULL, NULL, NULL, napi_enumerable, NULL },
    { "openat2Active", NULL, js_openat2_active, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_status s = napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  if (s != napi_ok) return s;
  /* The numbers fsAt takes, so the TypeScript side never restates them. */
  napi_value c;
  if ((s = napi_create_object(env, &c)) != napi_ok) return s;
  const struct { const char *n; int64_t v; } k[] = {
    { "OPEN", FS_OPEN }, { "MKDIR", FS_MKDIR }, { "MKNOD", FS_MKNOD }, { "SYMLINK", FS_SYMLINK },
    { "LINK", FS_LINK }, { "RENAME", FS_RENAME }, { "UNLINK", FS_UNLINK }, { "CHOWN", FS_CHOWN },
    { "CHMOD", FS_CHMOD }, { "UTIMES", FS_UTIMES }, { "PARENT", FS_PARENT },
    { "O_PATH", O_PATH }, { "O_DIRECTORY", O_DIRECTORY }, { "AT_REMOVEDIR", AT_REMOVEDIR },
    { "UTIME_NOW", UTIME_NOW }, { "UTIME_OMIT", UTIME_OMIT }, { "NAME_MAX", NAME_MAX }, { "TARGET_MAX", TARGET_MAX },
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if ((s = set_int(env, c, k[i].n, k[i].v)) != napi_ok) return s;
  return napi_set_named_property(env, exports, "fsAtConst", c);
}
