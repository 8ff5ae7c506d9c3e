/**
 * Flush-behind for UNSTABLE writes.
 *
 * A client streaming a big file writes UNSTABLE and COMMITs at close; left alone, every byte sits
 * dirty in the page cache until that COMMIT, which then waits for all of it to reach the disk (1 GiB
 * takes 1.5–2 s on the bench VM, as long as writing it). The kernel would start writeback in the
 * background only past vm.dirty_background_ratio — gigabytes on a large machine. So after every
 * `threshold` bytes of unstable writes to a file we start an `fdatasync` of it in the background:
 * the disk works while the client is still sending, and the final COMMIT finds little left to do.
 *
 * Nothing is promised earlier than before (UNSTABLE still means "not durable until COMMIT"). The one
 * subtlety is errors: a background flush that fails has *consumed* the writeback error (Linux reports
 * it once per open file, and marks it seen for files opened later), so it is kept here and thrown by
 * the file's next COMMIT — which resets the write verifier, and the client resends its data.
 */

interface FileState {
  /** Unstable bytes written since the last flush started. */
  dirty: number;
  /** The flush in progress, if any. */
  flushing?: Promise<void>;
  /** A background flush's failure, for the next COMMIT. */
  error?: unknown;
}

/** Files tracked at once; beyond it, idle entries are forgotten (that only delays their flush). */
const MAX_FILES = 4096;

export class FlushBehind {
  private readonly files = new Map<string, FileState>();
  private readonly inFlight = new Set<Promise<void>>();

  /** `threshold` 0 turns flush-behind off. */
  constructor(readonly threshold: number) {}

  /**
   * `bytes` of unstable data were written to file `key`; `flush` makes that file's data durable
   * (it runs in the background, at most one per file at a time).
   */
  wrote(key: string, bytes: number, flush: () => Promise<void>): void {
    if (this.threshold <= 0) return;
    let s = this.files.get(key);
    if (s === undefined) {
      if (this.files.size >= MAX_FILES) this.forgetIdle();
      s = { dirty: 0 };
      this.files.set(key, s);
    }
    s.dirty += bytes;
    if (s.dirty < this.threshold || s.flushing !== undefined) return;
    s.dirty = 0;
    const state = s;
    const p = flush().then(
      () => undefined,
      (err: unknown) => {
        state.error ??= err;
      },
    );
    state.flushing = p;
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      if (state.flushing === p) state.flushing = undefined;
      if (state.dirty === 0 && state.error === undefined && this.files.get(key) === state) this.files.delete(key);
    });
  }

  /**
   * Before a COMMIT's own sync of file `key`: wait for its background flush and throw the failure
   * of any background flush since the last COMMIT (once).
   */
  async beforeCommit(key: string): Promise<void> {
    const s = this.files.get(key);
    if (s === undefined) return;
    if (s.flushing !== undefined) await s.flushing;
    this.files.delete(key);
    if (s.error !== undefined) throw s.error;
  }

  /** Wait for every background flush (on close, before descriptors go). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Files being tracked (for tests and status). */
  get size(): number {
    return this.files.size;
  }

  private forgetIdle(): void {
    for (const [k, s] of this.files) {
      if (s.flushing === undefined && s.error === undefined) this.files.delete(k);
      if (this.files.size < MAX_FILES / 2) return;
    }
  }
}
