/*
 * handles.c — what resolving a file costs by kernel file handle
 * (name_to_handle_at / open_by_handle_at, as nfs-ganesha's VFS layer does)
 * against walking names under directory descriptors (what the POSIX backend
 * does on a miss of its descriptor cache), and against one statx under a
 * cached directory descriptor (its usual case). Run by bench/resolve.ts.
 *
 *   handles TREE DEPTH FILES ROUNDS
 * TREE holds d1/d2/.../dDEPTH/f0..f(FILES-1). Prints one JSON line.
 * open_by_handle_at needs CAP_DAC_READ_SEARCH (root); otherwise it is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: handles TREE DEPTH FILES ROUNDS\n"); return 2; }
  const char *tree = argv[1];
  int depth = atoi(argv[2]), files = atoi(argv[3]), rounds = atoi(argv[4]);
  int root = open(tree, O_PATH | O_DIRECTORY);
  int mnt = open(tree, O_RDONLY | O_DIRECTORY); /* open_by_handle_at's mount_fd may not be O_PATH */
  if (root < 0 || mnt < 0) { perror("open tree"); return 1; }
  char dname[32], fname[32];
  /* The deepest directory, and a handle for every file in it. */
  int deep = dup(root);
  for (int d = 1; d <= depth; d++) {
    snprintf(dname, sizeof dname, "d%d", d);
    int n = openat(deep, dname, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (n < 0) { perror("openat dir"); return 1; }
    close(deep);
    deep = n;
  }
  struct file_handle **h = calloc(files, sizeof *h);
  int mount_id;
  for (int i = 0; i < files; i++) {
    h[i] = malloc(sizeof(struct file_handle) + MAX_HANDLE_SZ);
    h[i]->handle_bytes = MAX_HANDLE_SZ;
    snprintf(fname, sizeof fname, "f%d", i);
    if (name_to_handle_at(deep, fname, h[i], &mount_id, 0) < 0) { perror("name_to_handle_at"); return 1; }
  }
  struct stat st;
  long n = (long)rounds * files;

  /* 1. One statx-equivalent under the cached directory descriptor. */
  double t = now();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < files; i++) {
      snprintf(fname, sizeof fname, "f%d", i);
      if (fstatat(deep, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) { perror("fstatat"); return 1; }
    }
  double cached = (now() - t) / n * 1e9;

  /* 2. Walking the names from the root: DEPTH O_PATH opens, then the stat (a cold cache). */
  t = now();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < files; i++) {
      int cur = root;
      for (int d = 1; d <= depth; d++) {
        snprintf(dname, sizeof dname, "d%d", d);
        int nx = openat(cur, dname, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        if (cur != root) close(cur);
        cur = nx;
      }
      snprintf(fname, sizeof fname, "f%d", i);
      if (fstatat(cur, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) { perror("walk"); return 1; }
      close(cur);
    }
  double walk = (now() - t) / n * 1e9;

  /* 3. open_by_handle_at (O_PATH), fstat, close. */
  double byhandle = -1;
  const char *why = "";
  t = now();
  for (int r = 0; r < rounds && byhandle != -2; r++)
    for (int i = 0; i < files; i++) {
      int fd = open_by_handle_at(mnt, h[i], O_PATH);
      if (fd < 0) { why = strerror(errno); byhandle = -2; break; }
      fstat(fd, &st);
      close(fd);
    }
  if (byhandle != -2) byhandle = (now() - t) / n * 1e9;
  printf("{\"depth\":%d,\"files\":%d,\"rounds\":%d,\"handleBytes\":%u,\"nsCachedDir\":%.0f,\"nsWalk\":%.0f,\"nsOpenByHandle\":%.0f,\"openByHandleError\":\"%s\"}\n",
         depth, files, rounds, h[0]->handle_bytes, cached, walk, byhandle, why);
  return 0;
}
