/*
 * nfs4tool — what busybox cannot do, for the NFSv4 guest scripts (tests/guest/nfs4.sh), built
 * static by tests/interop/kernel-nfs4.test.ts and shipped to the guest (KVMNFS_FILES). Each
 * subcommand does one system call on a file of the mount and prints its outcome on one line:
 * "ok ...", or the errno name (EAGAIN, ENXIO ...), so the script compares words.
 *
 *   lock FILE r|w|u START LEN [HOLD]  fcntl F_SETLK; with HOLD seconds, keep it that long
 *   lockw FILE r|w START LEN [UNTIL]  fcntl F_SETLKW (blocks); prints the seconds it waited; with
 *                                     UNTIL (a path), holds the lock until that file exists (120 s at most)
 *   getlk FILE r|w START LEN          fcntl F_GETLK: "unlocked" or "locked r|w START LEN"
 *   seek FILE OFFSET data|hole        lseek SEEK_DATA / SEEK_HOLE
 *   alloc|punch FILE OFFSET LEN       fallocate (0 / PUNCH_HOLE|KEEP_SIZE)
 *   copy SRC DST LEN                  copy_file_range from 0 to 0
 *   xset FILE NAME VALUE [create|replace]   setxattr
 *   xget FILE NAME                    getxattr: "ok VALUE"
 *   xlist FILE                        listxattr: "ok NAME NAME ..."
 *   xrm FILE NAME                     removexattr
 *   wait PATH                         wait until PATH exists (dropping cached dentries each look; 300 s at most)
 *   run FILE                          open FILE (O_RDWR|O_CREAT|O_TRUNC) and carry out the commands
 *                                     on stdin, one a line, through that one descriptor, printing
 *                                     "ok CMD" or "CMD ERRNO" each (and stopping at the first error):
 *       write I BYTES       write BYTES of block I's pattern (pattern() below) at the file position
 *       fsync               fsync
 *       flush               sync_file_range: send the dirty data (UNSTABLE), without COMMIT
 *       lock r|w START LEN  fcntl F_SETLK, held until close
 *       touch PATH          create PATH (a marker)
 *       wait PATH           wait until PATH exists (dropping cached dentries each look; 300 s at most)
 *       close               close (its error is the last flush's)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EAGAIN) E(EACCES) E(EPERM) E(ENOENT) E(ENXIO) E(EINVAL) E(EBADF) E(EOPNOTSUPP) E(ENODATA) E(EEXIST)
    E(EXDEV) E(ENOSPC) E(EIO) E(ENOLCK) E(EDEADLK) E(E2BIG) E(ERANGE) E(ENOSYS) E(EISDIR) E(EROFS) E(ETXTBSY) E(ETIMEDOUT)
#undef E
    default: return "EOTHER";
  }
}

static int fail(int e) {
  printf("%s\n", ename(e));
  return 1;
}

static short ltype(const char *t) {
  return t[0] == 'w' ? F_WRLCK : t[0] == 'u' ? F_UNLCK : F_RDLCK;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Block i's byte j; tests/interop/kernel-nfs4-restart.test.ts computes the same. */
static unsigned char pattern(long long i, long long j) {
  return (unsigned char)(i * 131 + j * 7 + (j >> 10) + 1);
}

static int touch(const char *p) {
  int fd = open(p, O_WRONLY | O_CREAT, 0644);
  if (fd < 0) return -1;
  return close(fd);
}

/* Wait for a marker another machine creates: drop cached dentries each look, so a negative one does not hide it. */
static int wait_for(const char *p) {
  for (int i = 0; i < 3000; i++) {
    int d = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (d >= 0) {
      if (write(d, "2", 1) < 0) { /* not root: looks may be cached a little longer */ }
      close(d);
    }
    if (access(p, F_OK) == 0) return 0;
    usleep(100000);
  }
  errno = ETIMEDOUT;
  return -1;
}

static int run(const char *file) {
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return fail(errno);
  printf("ok open\n");
  fflush(stdout);
  char line[4096], cmd[16], a1[4000], a2[64], a3[64];
  static unsigned char buf[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    int n = sscanf(line, "%15s %3999s %63s %63s", cmd, a1, a2, a3);
    if (n < 1) continue;
    int r = 0;
    if (!strcmp(cmd, "write") && n >= 3) {
      long long blk = atoll(a1), len = atoll(a2);
      for (long long done = 0; done < len && r == 0;) {
        long long k = len - done < (long long)sizeof buf ? len - done : (long long)sizeof buf;
        for (long long j = 0; j < k; j++) buf[j] = pattern(blk, done + j);
        ssize_t w = write(fd, buf, (size_t)k);
        if (w < 0) r = -1;
        else done += w;
      }
    } else if (!strcmp(cmd, "fsync")) r = fsync(fd);
    else if (!strcmp(cmd, "flush")) r = sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    else if (!strcmp(cmd, "lock") && n >= 4) {
      struct flock fl = { .l_type = ltype(a1), .l_whence = SEEK_SET, .l_start = atoll(a2), .l_len = atoll(a3) };
      r = fcntl(fd, F_SETLK, &fl);
    } else if (!strcmp(cmd, "touch") && n >= 2) r = touch(a1);
    else if (!strcmp(cmd, "wait") && n >= 2) r = wait_for(a1);
    else if (!strcmp(cmd, "close")) {
      r = close(fd);
      fd = -1;
    } else {
      printf("%s EINVAL\n", cmd);
      return 2;
    }
    if (r < 0) {
      printf("%s %s\n", cmd, ename(errno));
      fflush(stdout);
      return 1;
    }
    printf("ok %s%s%s\n", cmd, n >= 2 ? " " : "", n >= 2 ? a1 : "");
    fflush(stdout);
  }
  return fd < 0 ? 0 : 2; /* the commands must end with close */
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: nfs4tool CMD FILE ...\n");
    return 2;
  }
  const char *cmd = argv[1], *file = argv[2];
  if (!strcmp(cmd, "run")) return run(file);
  if (!strcmp(cmd, "wait")) return wait_for(file) < 0 ? fail(errno) : (printf("ok\n"), 0);
  if (!strcmp(cmd, "lock") || !strcmp(cmd, "lockw") || !strcmp(cmd, "getlk")) {
    if (argc < 6) return 2;
    short t = ltype(argv[3]);
    int fd = open(file, t == F_WRLCK ? O_RDWR : O_RDONLY);
    if (fd < 0) return fail(errno);
    struct flock fl = { .l_type = t, .l_whence = SEEK_SET, .l_start = atoll(argv[4]), .l_len = atoll(argv[5]) };
    if (!strcmp(cmd, "getlk")) {
      if (fcntl(fd, F_GETLK, &fl) < 0) return fail(errno);
      if (fl.l_type == F_UNLCK) printf("unlocked\n");
      else printf("locked %c %lld %lld\n", fl.l_type == F_WRLCK ? 'w' : 'r', (long long)fl.l_start, (long long)fl.l_len);
      return 0;
    }
    double t0 = now();
    if (fcntl(fd, !strcmp(cmd, "lockw") ? F_SETLKW : F_SETLK, &fl) < 0) return fail(errno);
    if (!strcmp(cmd, "lockw")) printf("ok %d\n", (int)(now() - t0));
    else printf("ok\n");
    fflush(stdout);
    if (argc > 6 && !strcmp(cmd, "lockw")) {
      for (int i = 0; i < 1200 && access(argv[6], F_OK) != 0; i++) usleep(100000);
      if (access(argv[6], F_OK) != 0) return fail(ETIMEDOUT);
    } else if (argc > 6) sleep((unsigned)atoi(argv[6]));
    return 0;
  }
  if (!strcmp(cmd, "seek")) {
    if (argc < 5) return 2;
    int fd = open(file, O_RDONLY);
    if (fd < 0) return fail(errno);
    off_t r = lseek(fd, atoll(argv[3]), !strcmp(argv[4], "data") ? SEEK_DATA : SEEK_HOLE);
    if (r < 0) return fail(errno);
    printf("ok %lld\n", (long long)r);
    return 0;
  }
  if (!strcmp(cmd, "alloc") || !strcmp(cmd, "punch")) {
    if (argc < 5) return 2;
    int fd = open(file, O_RDWR);
    if (fd < 0) return fail(errno);
    int mode = !strcmp(cmd, "punch") ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : 0;
    if (fallocate(fd, mode, atoll(argv[3]), atoll(argv[4])) < 0) return fail(errno);
    printf("ok\n");
    return 0;
  }
  if (!strcmp(cmd, "copy")) {
    if (argc < 5) return 2;
    int in = open(file, O_RDONLY), out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) return fail(errno);
    long long want = atoll(argv[4]), done = 0;
    while (done < want) {
      ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(want - done), 0);
      if (n < 0) return fail(errno);
      if (n == 0) break;
      done += n;
    }
    if (close(out) < 0) return fail(errno);
    printf("ok %lld\n", done);
    return 0;
  }
  if (!strcmp(cmd, "xset")) {
    if (argc < 5) return 2;
    int flags = argc > 5 ? (!strcmp(argv[5], "create") ? XATTR_CREATE : XATTR_REPLACE) : 0;
    if (setxattr(file, argv[3], argv[4], strlen(argv[4]), flags) < 0) return fail(errno);
    printf("ok\n");
    return 0;
  }
  if (!strcmp(cmd, "xget")) {
    char buf[65536];
    if (argc < 4) return 2;
    ssize_t n = getxattr(file, argv[3], buf, sizeof buf - 1);
    if (n < 0) return fail(errno);
    buf[n] = 0;
    printf("ok %s\n", buf);
    return 0;
  }
  if (!strcmp(cmd, "xlist")) {
    char buf[65536];
    ssize_t n = listxattr(file, buf, sizeof buf);
    if (n < 0) return fail(errno);
    printf("ok");
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) printf(" %s", buf + i);
    printf("\n");
    return 0;
  }
  if (!strcmp(cmd, "xrm")) {
    if (argc < 4) return 2;
    if (removexattr(file, argv[3]) < 0) return fail(errno);
    printf("ok\n");
    return 0;
  }
  fprintf(stderr, "nfs4tool: unknown command %s\n", cmd);
  return 2;
}
