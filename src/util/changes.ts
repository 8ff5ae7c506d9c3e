/**
 * Counts the calls that change something, so that work done ahead of a request — a READDIRPLUS
 * page computed before the client asked for it (nfs3: the modifying procedures tick it), a listing
 * page's entries stat'ed ahead (the POSIX backend: its modifying calls tick it) — can tell whether
 * any change came in since. A client that changed a file and then lists its directory must see its
 * change: what was computed before that change is never served after it.
 */
export class ChangeClock {
  private ticks = 0;
  private running = 0;

  begin(): void {
    this.ticks++;
    this.running++;
  }

  end(): void {
    this.ticks++;
    this.running--;
  }

  /** Run a modifying operation between begin() and end(). */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await fn();
    } finally {
      this.end();
    }
  }

  /**
   * A stamp of "no change since", or undefined while a change is in progress. Two equal stamps
   * mean no modifying call began or ended between them.
   */
  stamp(): number | undefined {
    return this.running === 0 ? this.ticks : undefined;
  }

  /** True when `stamp` was taken with no change in progress and none has begun or ended since. */
  unchangedSince(stamp: number | undefined): boolean {
    return stamp !== undefined && stamp === this.stamp();
  }
}
