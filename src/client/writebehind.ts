/**
 * Write-behind for streamed writes through a FileHandle (its writeFile of an
 * iterable, the write streams): data is gathered into WRITEs of wsize, sent
 * in order, with up to `limit` bytes unacknowledged; a writer waits only
 * when that much is in flight. The first failed WRITE fails every later
 * call.
 */
export class WriteBehind {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private inflightBytes = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private failed?: unknown;
  /** Bytes the server has acknowledged. */
  acknowledged = 0;

  constructor(
    /** One write: `data` at `at`, or at the handle's own position when null (the handle advances it). */
    private readonly send: (data: Buffer, at: number | null) => Promise<number>,
    /** Where the first byte goes; undefined: the handle's position. */
    private pos: number | undefined,
    private readonly wsize: number,
    private readonly limit: number,
  ) {}

  /**
   * Queue `data` (kept as it is: copy it first if the caller may reuse it)
   * and send every full wsize; resolves once fewer than `limit` bytes are in
   * flight, rejects with the first failed WRITE.
   */
  async add(data: Buffer | readonly Buffer[]): Promise<void> {
    for (const b of Buffer.isBuffer(data) ? [data] : data) {
      if (b.length === 0) continue;
      this.pending.push(b);
      this.pendingLen += b.length;
    }
    await this.pump(false);
  }

  /** Send what is queued and wait for every WRITE; rejects with the first failure. */
  async flush(): Promise<void> {
    await this.pump(true);
    await this.settle();
    if (this.failed) throw this.failed;
  }

  /** Wait for the WRITEs in flight (their errors are kept for add/flush). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private issue(chunk: Buffer): void {
    const at = this.pos ?? null;
    if (this.pos !== undefined) this.pos += chunk.length;
    this.inflightBytes += chunk.length;
    const p = this.send(chunk, at);
    this.inflight.add(p);
    p.then(
      (n) => {
        this.inflight.delete(p);
        this.inflightBytes -= chunk.length;
        this.acknowledged += n;
      },
      (e: unknown) => {
        this.inflight.delete(p);
        this.inflightBytes -= chunk.length;
        this.failed ??= e;
      },
    );
  }

  private async pump(all: boolean): Promise<void> {
    if (this.failed) throw this.failed;
    while (this.pendingLen >= this.wsize || (all && this.pendingLen > 0)) {
      const joined = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLen);
      const take = Math.min(this.wsize, joined.length);
      this.issue(joined.subarray(0, take));
      this.pending = take < joined.length ? [joined.subarray(take)] : [];
      this.pendingLen -= take;
      // a large chunk is sent a limit at a time: each WRITE in flight holds a copy of its data
      while (this.inflightBytes >= this.limit && !this.failed) await Promise.race(this.inflight).catch(() => undefined);
      if (this.failed) throw this.failed;
    }
  }
}
