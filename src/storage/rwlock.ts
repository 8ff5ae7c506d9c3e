/**
 * A readers-writer lock for the POSIX backend's namespace.
 *
 * Why: path-based syscalls resolve every intermediate component, and Node has
 * no openat2(RESOLVE_BENEATH). If one client request could turn a directory
 * on our computed path into a symlink (rename it away, then symlink or rename
 * a link into its place) while another request's syscall is in flight, that
 * syscall would follow the link out of the export. Operations that can make a
 * symlink appear under a name (symlink, rename, link) therefore run
 * exclusively; every other path-based operation runs shared. Writers are
 * preferred so a stream of readers cannot starve a rename.
 *
 * Changes made behind our back by local processes on the server host are not
 * covered (nothing short of openat2 could).
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: { exclusive: boolean; grant: () => void }[] = [];

  async shared<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.writer || this.queue.length > 0) {
      await new Promise<void>((grant) => this.queue.push({ exclusive: false, grant }));
    } else {
      this.readers++;
    }
    try {
      return await fn();
    } finally {
      this.readers--;
      this.drain();
    }
  }

  async exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.writer || this.readers > 0 || this.queue.length > 0) {
      await new Promise<void>((grant) => this.queue.push({ exclusive: true, grant }));
    } else {
      this.writer = true;
    }
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.drain();
    }
  }

  /** Grant waiting holders in FIFO order; counts are taken here, on their behalf. */
  private drain(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (next.exclusive) {
        if (this.readers > 0 || this.writer) return;
        this.queue.shift();
        this.writer = true;
        next.grant();
        return;
      }
      if (this.writer) return;
      this.queue.shift();
      this.readers++;
      next.grant();
    }
  }
}
