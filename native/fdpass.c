/*
 * fdpass.c — optional Node-API addon: pass file descriptors between processes
 * over AF_UNIX SOCK_SEQPACKET sockets (SCM_RIGHTS). Linux only.
 *
 * Why SEQPACKET rather than STREAM: every sendmsg() is delivered as exactly one
 * recvmsg() (message boundaries are kept, so no framing layer is needed), and
 * the SCM_RIGHTS descriptors stay attached to the message they were sent with
 * instead of to an arbitrary byte offset of a stream.
 *
 * Blocking calls (accept4, recvmsg) run on detached pthreads and report to JS
 * through unref'd thread-safe functions, so a watcher never keeps the process
 * alive.  The watcher threads never close the socket they watch: JS calls
 * shutdown() to stop them and closes the fd on the main thread once the final
 * callback has arrived, so a descriptor number is never reused under a thread.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>
#include "napi-util.h"
#include "fsat.h"
#include "fsdata.h"

#define MAX_FDS 8
#define MAX_MSG (1024 * 1024)
/* The kernel's CA_NAME_MAX: a congestion control name is at most 15 bytes. */
#define CA_NAME_MAX 16

/* Fills a sockaddr_un from a JS string; on failure throws and returns 0. */
static int get_addr(napi_env env, napi_value v, struct sockaddr_un *sa, socklen_t *len, const char *sc) {
  size_t n = 0;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  /* Ask for the full UTF-8 length first: a truncated copy could end early at a
   * character boundary and silently name another path. */
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "path must be a string");
    return 0;
  }
  if (n >= sizeof sa->sun_path) { throw_errno(env, sc, ENAMETOOLONG); return 0; }
  if (napi_get_value_string_utf8(env, v, sa->sun_path, sizeof sa->sun_path, &n) != napi_ok) {
    throw_errno(env, sc, EINVAL);
    return 0;
  }
  /* Empty paths would autobind / use the abstract namespace; embedded NULs would truncate. */
  if (n == 0 || strlen(sa->sun_path) != n) { throw_errno(env, sc, n == 0 ? ENOENT : EINVAL); return 0; }
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  return 1;
}


/* ---- watcher threads ---------------------------------------------------- */

/* Shared between a watcher thread and the tsfn finalizer.  The finalizer may run
 * while the thread is still blocked (environment teardown, e.g. a worker
 * exiting); `dead` then tells the thread not to touch the tsfn again. */
typedef struct {
  pthread_mutex_t mu;
  int dead, refs, released;
  napi_threadsafe_function tsfn;
  int fd, max_bytes;
} watch_t;

/* One event for JS.  Self-contained: call_js must not use the context when env
 * is NULL, because the finalizer has then already freed it. */
enum { K_ACCEPT, K_MSG, K_END };
typedef struct {
  int kind;                /* K_ACCEPT: cb(err, fd); K_MSG / K_END: cb(kind, data, fds, err) */
  const char *err;         /* errno name or NULL (static string) */
  int nfds, fds[MAX_FDS];  /* accept: fds[0] is the new connection */
  size_t len;
  char data[];
} item_t;

static void unref_watch(watch_t *w) {
  int last = (--w->refs == 0);
  pthread_mutex_unlock(&w->mu);
  if (last) { pthread_mutex_destroy(&w->mu); free(w); }
}

static void finalize_watch(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  watch_t *w = data;
  pthread_mutex_lock(&w->mu);
  w->dead = 1;
  unref_watch(w);
}

static void close_item_fds(item_t *it) {
  for (int i = 0; i < it->nfds; i++) close(it->fds[i]);
  it->nfds = 0;
}

/* Queue an event for JS.  Returns 0 if JS will never see it (teardown). */
static int deliver(watch_t *w, item_t *it) {
  napi_status st = napi_closing;
  pthread_mutex_lock(&w->mu);
  if (!w->dead) st = napi_call_threadsafe_function(w->tsfn, it, napi_tsfn_blocking);
  if (st == napi_closing) w->released = 1; /* napi_closing already dropped our thread count */
  pthread_mutex_unlock(&w->mu);
  if (st == napi_ok) return 1;
  close_item_fds(it);
  free(it);
  return 0;
}

static void *thread_exit(watch_t *w) {
  pthread_mutex_lock(&w->mu);
  if (!w->dead && !w->released) napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
  unref_watch(w);
  return NULL;
}

static void *accept_thread(void *arg) {
  watch_t *w = arg;
  for (;;) {
    int nfd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
    int e = errno;
    if (nfd < 0 && (e == EINTR || e == ECONNABORTED)) continue;
    item_t *it = calloc(1, sizeof *it);
    if (!it) { if (nfd >= 0) { close(nfd); continue; } break; }
    it->kind = K_ACCEPT;
    if (nfd >= 0) { it->nfds = 1; it->fds[0] = nfd; }
    else it->err = errno_name(e);
    if (!deliver(w, it) || nfd < 0) break;
  }
  return thread_exit(w);
}

static void *message_thread(void *arg) {
  watch_t *w = arg;
  char *buf = malloc((size_t)w->max_bytes);
  union { struct cmsghdr align; char b[CMSG_SPACE(MAX_FDS * sizeof(int))]; } ctl;
  for (;;) {
    item_t *it;
    int fds[MAX_FDS], nfds = 0, extra = 0;
    struct iovec iov = { buf, (size_t)w->max_bytes };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
    ssize_t n = buf ? recvmsg(w->fd, &mh, MSG_CMSG_CLOEXEC) : -1;
    int e = buf ? errno : ENOMEM;
    if (n < 0 && e == EINTR) continue;
    if (n >= 0) {
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          if (nfds < MAX_FDS) fds[nfds++] = fd; else { close(fd); extra = 1; }
        }
      }
    }
    /* A zero-length read without descriptors is EOF (send() refuses empty messages). */
    int end = n < 0 || (n == 0 && nfds == 0) || extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
    it = calloc(1, sizeof *it + (end ? 0 : (size_t)n));
    if (end || !it) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      if (!it) break; /* out of memory: nothing we can report; JS never gets 'end' */
      it->kind = K_END;
      it->err = n < 0 ? errno_name(e) : n == 0 && nfds == 0 ? NULL : "EMSGSIZE";
      deliver(w, it);
      break;
    }
    it->kind = K_MSG;
    it->nfds = nfds;
    memcpy(it->fds, fds, sizeof(int) * (size_t)nfds);
    it->len = (size_t)n;
    memcpy(it->data, buf, (size_t)n);
    if (!deliver(w, it)) break;
  }
  free(buf);
  return thread_exit(w);
}

/* Runs on the main thread; env == NULL when the tsfn is being torn down. */
static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  item_t *it = data;
  (void)ctx; /* may already be freed when env == NULL: never used */
  napi_value argv[4], undef, arr, v;
  if (!env || !it) goto drop;
  if (napi_get_undefined(env, &undef) != napi_ok || napi_get_null(env, &argv[0]) != napi_ok) goto drop;
  if (it->kind == K_ACCEPT) {
    if ((it->err && napi_create_string_utf8(env, it->err, NAPI_AUTO_LENGTH, &argv[0]) != napi_ok) ||
        napi_create_int32(env, it->nfds ? it->fds[0] : -1, &argv[1]) != napi_ok)
      goto drop;
    it->nfds = 0; /* ownership passes to JS */
    napi_call_function(env, undef, cb, 2, argv, NULL);
  } else {
    argv[1] = argv[2] = argv[3] = argv[0];
    if (napi_create_string_utf8(env, it->kind == K_END ? "end" : "msg", NAPI_AUTO_LENGTH, &argv[0]) != napi_ok) goto drop;
    if (it->err && napi_create_string_utf8(env, it->err, NAPI_AUTO_LENGTH, &argv[3]) != napi_ok) goto drop;
    if (it->kind == K_MSG) {
      if (napi_create_buffer_copy(env, it->len, it->data, NULL, &argv[1]) != napi_ok ||
          napi_create_array_with_length(env, (size_t)it->nfds, &arr) != napi_ok)
        goto drop;
      for (int i = 0; i < it->nfds; i++)
        if (napi_create_int32(env, it->fds[i], &v) != napi_ok || napi_set_element(env, arr, (uint32_t)i, v) != napi_ok)
          goto drop;
      argv[2] = arr;
    }
    it->nfds = 0; /* ownership passes to JS */
    napi_call_function(env, undef, cb, 4, argv, NULL);
  }
drop:
  if (it) { close_item_fds(it); free(it); }
}

static napi_value start_watch(napi_env env, napi_value cb, int fd, int max_bytes, const char *name,
                              void *(*fn)(void *)) {
  napi_valuetype t;
  napi_value rname;
  pthread_t th;
  pthread_attr_t attr;
  CHECK(env, napi_typeof(env, cb, &t));
  if (t != napi_function) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "callback must be a function"); return NULL; }
  watch_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "malloc", ENOMEM);
  pthread_mutex_init(&w->mu, NULL);
  w->refs = 2; w->fd = fd; w->max_bytes = max_bytes;
  /* Unlimited queue (0): napi_call_threadsafe_function never blocks the watcher. */
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &rname) != napi_ok ||
      napi_create_threadsafe_function(env, cb, NULL, rname, 0, 1, w, finalize_watch, NULL, call_js,
                                      &w->tsfn) != napi_ok) {
    pthread_mutex_destroy(&w->mu);
    free(w);
    CHECK(env, napi_generic_failure); /* throws */
  }
  int e = napi_unref_threadsafe_function(env, w->tsfn) == napi_ok ? 0 : EINVAL;
  if (!e && !(e = pthread_attr_init(&attr))) {
    e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (!e) e = pthread_create(&th, &attr, fn, w);
    pthread_attr_destroy(&attr);
  }
  if (e) {
    w->refs = 1; /* only the finalizer remains */
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
    return throw_errno(env, "pthread_create", e);
  }
  return NULL;
}

/* ---- exported functions --------------------------------------------------- */

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sa;
  socklen_t len;
  int32_t backlog;
  if (!get_args(env, info, 2, argv) || !get_addr(env, argv[0], &sa, &len, "listen") ||
      !get_nonneg(env, argv[1], "backlog", &backlog))
    return NULL;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "listen", e);
  }
  return make_int(env, fd);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sa;
  socklen_t len;
  int32_t timeout;
  if (!get_args(env, info, 2, argv) || !get_addr(env, argv[0], &sa, &len, "connect") ||
      !get_nonneg(env, argv[1], "timeoutMs", &timeout))
    return NULL;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  long deadline = now_ms() + timeout;
  int e = 0;
  for (;;) {
    if (connect(fd, (struct sockaddr *)&sa, len) == 0) break;
    e = errno;
    long left = deadline - now_ms();
    if (e == EINTR) continue;
    if (e == EINPROGRESS) { /* generic non-blocking path: wait for writability, read SO_ERROR */
      struct pollfd p = { fd, POLLOUT, 0 };
      int r = poll(&p, 1, left > 0 ? (int)left : 0);
      socklen_t sl = sizeof e;
      if (r == 0) e = ETIMEDOUT;
      else if (r < 0) e = errno;
      else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0) e = errno;
      break;
    }
    /* AF_UNIX never returns EINPROGRESS: a full accept backlog gives EAGAIN at
     * once, so retry with short sleeps until the timeout expires. */
    if (e != EAGAIN) break;
    if (left <= 0) { e = ETIMEDOUT; break; }
    poll(NULL, 0, left < 10 ? (int)left : 10);
    e = 0;
  }
  int fl = e ? 0 : fcntl(fd, F_GETFL);
  if (!e && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) e = errno;
  if (e) { close(fd); return throw_errno(env, "connect", e); }
  return make_int(env, fd);
}

static napi_value js_watch_accept(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (!get_args(env, info, 2, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  return start_watch(env, argv[1], fd, 0, "fdpass.accept", accept_thread);
}

static napi_value js_watch_messages(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, max;
  if (!get_args(env, info, 3, argv) || !get_nonneg(env, argv[0], "fd", &fd) ||
      !get_nonneg(env, argv[1], "maxBytes", &max))
    return NULL;
  if (max < 1) max = 1;
  if (max > MAX_MSG) max = MAX_MSG;
  return start_watch(env, argv[2], fd, max, "fdpass.messages", message_thread);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[3], v;
  int32_t fd;
  bool is_buf = false, is_arr = false;
  void *data;
  size_t len;
  uint32_t nfds = 0;
  int fds[MAX_FDS];
  union { struct cmsghdr align; char b[CMSG_SPACE(MAX_FDS * sizeof(int))]; } ctl;
  napi_valuetype t;
  if (!get_args(env, info, 3, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  CHECK(env, napi_is_buffer(env, argv[1], &is_buf));
  if (!is_buf) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Buffer"); return NULL; }
  CHECK(env, napi_get_buffer_info(env, argv[1], &data, &len));
  /* A zero-byte SEQPACKET message is indistinguishable from EOF for the receiver. */
  if (len == 0) return throw_errno(env, "send", EINVAL);
  CHECK(env, napi_typeof(env, argv[2], &t));
  if (t != napi_undefined && t != napi_null) {
    CHECK(env, napi_is_array(env, argv[2], &is_arr));
    if (!is_arr) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array"); return NULL; }
    CHECK(env, napi_get_array_length(env, argv[2], &nfds));
    if (nfds > MAX_FDS) { napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "at most 8 fds per message"); return NULL; }
    for (uint32_t i = 0; i < nfds; i++) {
      CHECK(env, napi_get_element(env, argv[2], i, &v));
      if (!get_nonneg(env, v, "fds[i]", &fds[i])) return NULL;
    }
  }
  struct iovec iov = { data, len };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds > 0) {
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.b;
    mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "send", errno);
  return make_int(env, (int)n);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  if (shutdown(fd, SHUT_RDWR) < 0 && errno != ENOTCONN) return throw_errno(env, "shutdown", errno);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  /* On Linux the fd is released even when close() reports EINTR: never retry. */
  if (close(fd) < 0 && errno == EBADF) return throw_errno(env, "close", EBADF);
  return NULL;
}

static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj;
  int32_t fd;
  struct ucred cr;
  socklen_t sl = sizeof cr;
  if (!get_args(env, info, 1, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0) return throw_errno(env, "getsockopt", errno);
  CHECK(env, napi_create_object(env, &obj));
  napi_value pid = make_int(env, (int)cr.pid), uid, gid;
  if (!pid) return NULL;
  CHECK(env, napi_create_uint32(env, cr.uid, &uid));
  CHECK(env, napi_create_uint32(env, cr.gid, &gid));
  CHECK(env, napi_set_named_property(env, obj, "pid", pid));
  CHECK(env, napi_set_named_property(env, obj, "uid", uid));
  CHECK(env, napi_set_named_property(env, obj, "gid", gid));
  return obj;
}

/*
 * preadNoWait(fd, buf: Uint8Array, offset, length, position) → bytes read
 * (up to length + 1: one extra probe byte tells whether data follows), or
 * -1 when the data is not all in the page cache (RWF_NOWAIT → EAGAIN), or -2
 * when the file system does not support RWF_NOWAIT. Never waits for I/O, so
 * LOCALIO can serve page-cache hits on the event loop without a thread-pool
 * round trip (the trip costs ~30 µs; a cached 4 KiB copy ~2 µs) and send
 * everything else to the pool.
 */
static napi_value js_pread_nowait(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, off, len;
  int64_t pos;
  size_t n_el;
  void *data;
  static char probe;
  if (!get_args(env, info, 5, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  if (!get_typed(env, argv[1], napi_uint8_array, "buf", &data, &n_el)) return NULL;
  if (!get_nonneg(env, argv[2], "offset", &off) || !get_nonneg(env, argv[3], "length", &len)) return NULL;
  if (napi_get_value_int64(env, argv[4], &pos) != napi_ok || pos < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "position must be a non-negative integer");
    return NULL;
  }
  if ((size_t)off > n_el || (size_t)len > n_el - (size_t)off) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offset + length beyond the buffer");
    return NULL;
  }
  struct iovec iov[2] = { { (char *)data + off, (size_t)len }, { &probe, 1 } };
  ssize_t n;
  do n = preadv2(fd, iov, 2, (off_t)pos, RWF_NOWAIT); while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return make_int(env, -1);
    if (errno == EOPNOTSUPP) return make_int(env, -2);
    return throw_errno(env, "preadv2", errno);
  }
  return make_int(env, (int)n);
}

/* ---- zero-copy READ replies: splice ------------------------------------- */

/*
 * A READ reply's data can go from the page cache to the client's socket
 * without being copied into (or out of) our memory: splice(2) the file range
 * into a pipe (the pipe then holds references to the page-cache pages), build
 * the reply header once the byte count is known, and splice the pipe into the
 * socket (TCP takes the pages as fragments).  knfsd replies to READ this way.
 * Filling the pipe may wait for the disk, so it runs on the thread pool;
 * emptying it into the non-blocking socket never waits and runs on the event
 * loop, stopping where the socket is full (the caller writes the rest).
 */

/* pipeOpen(capacity) → [readFd, writeFd, capacity]: a non-blocking pipe sized
 * (F_SETPIPE_SZ) to hold `capacity` bytes when allowed; the capacity it got. */
static napi_value js_pipe_open(napi_env env, napi_callback_info info) {
  napi_value argv[1], arr, v;
  int32_t want;
  int p[2];
  if (!get_args(env, info, 1, argv) || !get_nonneg(env, argv[0], "capacity", &want)) return NULL;
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return throw_errno(env, "pipe2", errno);
  /* Over the limit (fs.pipe-max-size for an unprivileged process) the pipe keeps its default size. */
  (void)fcntl(p[1], F_SETPIPE_SZ, want);
  int got = fcntl(p[1], F_GETPIPE_SZ);
  if (got < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return throw_errno(env, "fcntl", e);
  }
  int vals[3] = { p[0], p[1], got };
  if (napi_create_array_with_length(env, 3, &arr) != napi_ok) goto fail;
  for (uint32_t i = 0; i < 3; i++) {
    if (napi_create_int32(env, vals[i], &v) != napi_ok || napi_set_element(env, arr, i, v) != napi_ok) goto fail;
  }
  return arr;
fail:
  close(p[0]);
  close(p[1]);
  napi_throw_error(env, NULL, "fdpass: pipeOpen result failed");
  return NULL;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd, pipe_w;
  int64_t pos;
  size_t count;
  size_t done; /* bytes now in the pipe */
  int64_t size; /* the file's size after the splice, for eof */
  int err;
} splice_in_t;

static void splice_in_execute(napi_env env, void *data) {
  (void)env;
  splice_in_t *t = data;
  loff_t off = (loff_t)t->pos;
  while (t->done < t->count) {
    ssize_t n = splice(t->fd, &off, t->pipe_w, NULL, t->count - t->done, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && t->done > 0) break; /* the pipe is full: a short read */
    if (n < 0) { t->err = errno; return; }
    if (n == 0) break; /* end of file */
    t->done += (size_t)n;
  }
  struct stat st;
  if (fstat(t->fd, &st) < 0) { t->err = errno; return; }
  t->size = (int64_t)st.st_size;
}

static void splice_in_complete(napi_env env, napi_status status, void *data) {
  splice_in_t *t = data;
  napi_value v, obj, n, size;
  if (status != napi_ok) t->err = t->err ? t->err : ECANCELED;
  if (t->err) {
    v = errno_error(env, "splice", t->err);
    if (v == NULL) napi_get_undefined(env, &v);
    napi_reject_deferred(env, t->deferred, v);
  } else {
    napi_create_object(env, &obj);
    napi_create_double(env, (double)t->done, &n);
    napi_create_double(env, (double)t->size, &size);
    napi_set_named_property(env, obj, "bytes", n);
    napi_set_named_property(env, obj, "size", size);
    napi_resolve_deferred(env, t->deferred, obj);
  }
  napi_delete_async_work(env, t->work);
  free(t);
}

/* spliceIn(fd, position, count, pipeWriteFd) → Promise<{ bytes, size }>: up to
 * `count` bytes of the file from `position` into the pipe (fewer at end of file
 * or when the pipe is full), on the thread pool; `size` is the file's size
 * afterwards.  Rejects with an errno-coded Error. */
static napi_value js_splice_in(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, count, pw;
  int64_t pos;
  if (!get_args(env, info, 4, argv) || !get_nonneg(env, argv[0], "fd", &fd)) return NULL;
  if (napi_get_value_int64(env, argv[1], &pos) != napi_ok || pos < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "position must be a non-negative integer");
    return NULL;
  }
  if (!get_nonneg(env, argv[2], "count", &count) || !get_nonneg(env, argv[3], "pipeWriteFd", &pw)) return NULL;
  splice_in_t *t = calloc(1, sizeof *t);
  if (!t) return throw_errno(env, "spliceIn", ENOMEM);
  t->fd = fd;
  t->pipe_w = pw;
  t->pos = pos;
  t->count = (size_t)count;
  napi_value promise = queue_promise(env, "nfs-localio:spliceIn", splice_in_execute, splice_in_complete, t, &t->deferred, &t->work);
  if (promise == NULL) free(t);
  return promise;
}

/* Send all of buf[0..len) that the socket takes now; -errno on a real error. */
static ssize_t send_nowait(int sock, const char *buf, size_t len, int more) {
  size_t sent = 0;
  while (sent < len) {
    ssize_t k = send(sock, buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (k < 0) return -errno;
    sent += (size_t)k;
  }
  return (ssize_t)sent;
}


/* spliceOut(socketFd, head, pipeReadFd, count, trailer) → bytes sent: `head`,
 * then `count` bytes out of the pipe, then `trailer`, to a non-blocking socket,
 * as far as it takes them without waiting.  Throws an errno-coded Error on a
 * socket error (EPIPE, ECONNRESET …). */
static napi_value js_splice_out(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t sock, pr, count;
  char *head, *trailer;
  size_t hlen, tlen;
  if (!get_args(env, info, 5, argv) || !get_nonneg(env, argv[0], "socketFd", &sock) ||
      !get_bytes(env, argv[1], "head", &head, &hlen) || !get_nonneg(env, argv[2], "pipeReadFd", &pr) ||
      !get_nonneg(env, argv[3], "count", &count) || !get_bytes(env, argv[4], "trailer", &trailer, &tlen))
    return NULL;
  ssize_t h = send_nowait(sock, head, hlen, 1);
  if (h < 0) return throw_errno(env, "send", (int)-h);
  if ((size_t)h < hlen) return make_int(env, (int)h);
  size_t moved = 0;
  while (moved < (size_t)count) {
    ssize_t k = splice(pr, NULL, sock, NULL, (size_t)count - moved,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (tlen ? SPLICE_F_MORE : 0));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) return make_int(env, (int)(hlen + moved));
    if (k < 0) return throw_errno(env, "splice", errno);
    if (k == 0) return throw_errno(env, "splice", EIO); /* the pipe held less than it should */
    moved += (size_t)k;
  }
  ssize_t t = send_nowait(sock, trailer, tlen, 0);
  if (t < 0) return throw_errno(env, "send", (int)-t);
  return make_int(env, (int)(hlen + moved + (size_t)t));
}

/* tcpCongestion(socketFd, name?) → the congestion control the TCP socket uses
 * after setting it to `name` (when given).  Throws an errno-coded Error when
 * the kernel refuses (ENOENT: not built in; EPERM: not in
 * net.ipv4.tcp_allowed_congestion_control for an unprivileged process) or
 * the name is empty or longer than a kernel name may be (EINVAL). */
static napi_value js_tcp_congestion(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t sock;
  if (!get_args(env, info, 2, argv) || !get_nonneg(env, argv[0], "socketFd", &sock)) return NULL;
  napi_valuetype t;
  CHECK(env, napi_typeof(env, argv[1], &t));
  if (t == napi_string) {
    char name[CA_NAME_MAX + 1]; /* one more than a name may have: a longer one shows as n == CA_NAME_MAX */
    size_t n = 0;
    CHECK(env, napi_get_value_string_utf8(env, argv[1], name, sizeof name, &n));
    if (n == 0 || n >= CA_NAME_MAX) return throw_errno(env, "setsockopt", EINVAL);
    if (setsockopt(sock, IPPROTO_TCP, TCP_CONGESTION, name, (socklen_t)n) < 0) return throw_errno(env, "setsockopt", errno);
  } else if (t != napi_undefined) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "name must be a string");
    return NULL;
  }
  char now[CA_NAME_MAX + 1];
  socklen_t len = CA_NAME_MAX;
  memset(now, 0, sizeof now);
  if (getsockopt(sock, IPPROTO_TCP, TCP_CONGESTION, now, &len) < 0) return throw_errno(env, "getsockopt", errno);
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, now, strnlen(now, (size_t)len), &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "listen", NULL, js_listen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL },
    { "watchAccept", NULL, js_watch_accept, NULL, NULL, NULL, napi_enumerable, NULL },
    { "watchMessages", NULL, js_watch_messages, NULL, NULL, NULL, napi_enumerable, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "peerCred", NULL, js_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL },
    { "preadNoWait", NULL, js_pread_nowait, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pipeOpen", NULL, js_pipe_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "spliceIn", NULL, js_splice_in, NULL, NULL, NULL, napi_enumerable, NULL },
    { "spliceOut", NULL, js_splice_out, NULL, NULL, NULL, napi_enumerable, NULL },
    { "tcpCongestion", NULL, js_tcp_congestion, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(env, fsat_define(env, exports));
  CHECK(env, fsdata_define(env, exports));
  return exports;
}
