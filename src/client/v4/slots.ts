/**
 * The fore channel's slot table (RFC 8881 section 2.10.6). A session has as
 * many slots as the server granted (ca_maxrequests); each carries one
 * request at a time and a sequence id that goes up by one per new request,
 * which is how the server's reply cache tells a retransmission (same slot,
 * same sequence id: answered from the cache) from a new request. So calls
 * in flight are bounded by the slots: a caller waits for a free one.
 *
 * The server may ask for fewer slots (sr_target_highest_slotid) or answer
 * NFS4ERR_BADSLOT; the table then uses only the lower ones, and more again
 * when the target rises — the Linux client's nfs4_slot_table does the same.
 */

export interface Slot {
  readonly id: number;
  /** The sequence id of the last request the server is known to have taken on this slot (0: none yet). */
  seq: number;
  /**
   * The last request on this slot ended without an answer (a soft timeout): the server may or may not
   * have taken `seq + 1`. The next request then tries `seq + 2`, and `seq + 1` if the server answers
   * NFS4ERR_SEQ_MISORDERED (it never saw the lost one) — Linux's nfs41_sequence_process.
   */
  uncertain: boolean;
}

export class SlotTable {
  private slots: Slot[] = [];
  /** Free slot ids below `limit` are taken lowest first, so the highest slot id in use stays low. */
  private readonly free = new Set<number>();
  private readonly busy = new Set<number>();
  private readonly waiters: Array<{ resolve: (s: Slot) => void; reject: (e: Error) => void }> = [];
  private closedWith?: Error;
  /** Slots we may use: the server's target highest slot id + 1, at most the slots granted. */
  private limit = 0;

  constructor(granted: number) {
    this.reset(granted);
  }

  /** A new session: `granted` slots, every sequence id back to 0. Waiters keep waiting for the new slots. */
  reset(granted: number): void {
    const n = Math.max(1, granted);
    this.slots = Array.from({ length: n }, (_, id) => ({ id, seq: 0, uncertain: false }));
    this.limit = n;
    this.free.clear();
    this.busy.clear();
    for (let i = 0; i < n; i++) this.free.add(i);
    this.wake();
  }

  get size(): number {
    return this.slots.length;
  }

  /** Slots in use now. */
  get inUse(): number {
    return this.busy.size;
  }

  /** sa_highestslotid: the highest slot id with a request outstanding (0 when only slot 0 is). */
  get highestSlotid(): number {
    let h = 0;
    for (const id of this.busy) if (id > h) h = id;
    return h;
  }

  /** A free slot, waiting for one when every usable slot carries a request. */
  acquire(): Promise<Slot> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const s = this.take();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Whether `slot` is one of this table's (not of the table before a reset). */
  owns(slot: Slot): boolean {
    return this.slots[slot.id] === slot;
  }

  /** Give a slot back (its request was answered or abandoned). */
  release(slot: Slot): void {
    if (!this.owns(slot)) return; // a slot of a table since reset
    this.busy.delete(slot.id);
    this.free.add(slot.id);
    this.wake();
  }

  /**
   * What the server said in SEQUENCE: `target` (sr_target_highest_slotid) caps the slots used from now
   * on; `highest` (sr_highest_slotid) is the highest it will accept at all.
   */
  serverLimits(highest: number, target: number): void {
    const cap = Math.min(this.slots.length, highest + 1, Math.max(1, target + 1));
    if (cap === this.limit) return;
    this.limit = Math.max(1, cap);
    this.wake();
  }

  /** NFS4ERR_BADSLOT / BAD_HIGH_SLOT for `slot`: use only the slots below it from now on. */
  shrinkBelow(slotid: number): void {
    this.limit = Math.max(1, Math.min(this.limit, slotid));
  }

  /** The client is closing: every waiter, and every later acquire, fails with `err`. */
  close(err: Error): void {
    this.closedWith = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private take(): Slot | undefined {
    let best = -1;
    for (const id of this.free) if (id < this.limit && (best < 0 || id < best)) best = id;
    if (best < 0) return undefined;
    this.free.delete(best);
    this.busy.add(best);
    return this.slots[best];
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const s = this.take();
      if (!s) return;
      this.waiters.shift()!.resolve(s);
    }
  }
}
