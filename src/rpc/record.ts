import { RpcTransportError } from './errors.js';
import type { BufferPool } from '../util/bufpool.js';

/**
 * RPC record marking over a byte stream (RFC 5531 §11). A record is one or
 * more fragments, each with a 4-byte header: the high bit marks the last
 * fragment, the low 31 bits are its length. Input may be split at any byte.
 *
 * Bounds: the sum of a record's fragment lengths is checked against
 * `maxRecord` as each header arrives — before any of its bytes are buffered —
 * so a hostile peer can make us hold at most `maxRecord` bytes per connection.
 * And what holds them is one buffer, whatever the pieces they came in: a Buffer
 * per piece cost ~100 bytes of heap for every 1-byte fragment (or 1-byte read),
 * so a 1 MiB record sent that way took ~106 MiB.
 */
export const LAST_FRAGMENT = 0x80000000;

/**
 * Where a large record's payload is placed: on a boundary of this many bytes. A page covers every
 * Linux filesystem's direct-I/O memory alignment (statx STATX_DIOALIGN: 512 on ext4 here).
 */
export const PAYLOAD_ALIGN = 4096;

/**
 * Given the first bytes of a large record, where its bulk payload starts (a byte offset in the
 * record), or -1 when the record has none or the bytes do not tell.
 */
export type PayloadLocator = (head: Buffer) => number;

const EMPTY = Buffer.alloc(0);

export class RecordReader {
  private readonly maxRecord: number;
  private readonly onRecord: (record: Buffer, release?: () => void) => void;
  /**
   * Large single-fragment records (WRITE) are assembled straight into a
   * pooled buffer sized from the fragment header: one copy, no fresh 1 MiB
   * allocation per call. The consumer gets `release` to give it back.
   */
  private readonly pool: BufferPool | undefined;
  private direct: Buffer | undefined;
  /** Where the record starts in `direct` (so that its payload is aligned), and where it has reached. */
  private directStart = 0;
  private directFill = 0;
  /**
   * Optional: finds a large record's payload from its first bytes, so the record can be placed in its
   * pooled buffer with the payload on a PAYLOAD_ALIGN boundary (the pool's buffers are page-aligned
   * and PAYLOAD_ALIGN bytes larger than the biggest record they take).
   */
  private readonly locate: PayloadLocator | undefined;
  /**
   * The record so far (unless it comes whole in one piece: that one is passed on as it is, a view of
   * the socket's chunk, or a copy if transient). Its bytes are copied into one buffer that grows to
   * at most twice what has arrived (and never past the record's end, once its last fragment has
   * begun), so memory follows the bytes the peer really sent.
   */
  private acc: Buffer | undefined;
  private recordLen = 0;
  /** Bytes still expected in the current fragment; -1 while reading a header. */
  private fragLeft = -1;
  private lastFrag = false;
  private header = Buffer.alloc(4);
  private headerHave = 0;

  constructor(maxRecord: number, onRecord: (record: Buffer, release?: () => void) => void, pool?: BufferPool, locate?: PayloadLocator) {
    this.maxRecord = maxRecord;
    this.onRecord = onRecord;
    this.pool = pool;
    this.locate = locate;
  }

  /** Bytes currently held for an incomplete record. */
  get buffered(): number {
    return this.recordLen;
  }

  /**
   * Feed bytes from the stream. Throws RpcTransportError on a record over the cap.
   * `transient`: the caller reuses `chunk`'s memory once this returns, so nothing may keep a view
   * of it (large records are copied into their pooled buffer anyway; small ones are copied out).
   */
  push(chunk: Buffer, transient = false): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.fragLeft < 0) {
        const take = Math.min(4 - this.headerHave, chunk.length - off);
        chunk.copy(this.header, this.headerHave, off, off + take);
        this.headerHave += take;
        off += take;
        if (this.headerHave < 4) return;
        this.headerHave = 0;
        const word = this.header.readUInt32BE(0);
        this.lastFrag = (word & LAST_FRAGMENT) !== 0;
        this.fragLeft = word & 0x7fffffff;
        if (this.recordLen + this.fragLeft > this.maxRecord) {
          throw new RpcTransportError(
            'RPC_RECORD_TOO_LARGE',
            `record of at least ${this.recordLen + this.fragLeft} bytes exceeds the ${this.maxRecord}-byte cap`,
          );
        }
        if (this.fragLeft === 0 && this.lastFrag) this.finish(this.acc?.subarray(0, this.recordLen) ?? EMPTY);
        else if (this.fragLeft === 0) this.fragLeft = -1;
        else if (
          this.pool &&
          this.lastFrag &&
          this.recordLen === 0 &&
          this.fragLeft > chunk.length - off &&
          this.fragLeft > 64 * 1024 &&
          this.fragLeft <= this.pool.size
        ) {
          this.direct = this.pool.acquire();
          this.directStart = this.placement(chunk.subarray(off, off + Math.min(this.fragLeft, chunk.length - off)), this.fragLeft);
          this.directFill = this.directStart;
        }
        continue;
      }
      const take = Math.min(this.fragLeft, chunk.length - off);
      if (this.direct) {
        chunk.copy(this.direct, this.directFill, off, off + take);
        this.directFill += take;
        this.recordLen += take;
        this.fragLeft -= take;
        off += take;
        if (this.fragLeft === 0) this.finishDirect();
        continue;
      }
      const piece = chunk.subarray(off, off + take);
      if (this.recordLen === 0 && this.lastFrag && take === this.fragLeft) {
        off += take;
        this.finish(transient ? Buffer.from(piece) : piece);
        continue;
      }
      this.append(piece);
      this.recordLen += take;
      this.fragLeft -= take;
      off += take;
      if (this.fragLeft === 0) {
        if (this.lastFrag) this.finish(this.acc!.subarray(0, this.recordLen));
        else this.fragLeft = -1;
      }
    }
  }

  /** Copy `piece` after the record's bytes so far. */
  private append(piece: Buffer): void {
    const have = this.recordLen;
    const need = have + piece.length;
    if (this.acc === undefined || need > this.acc.length) {
      // Double, but past neither what the record can still be (its last fragment's end) nor the cap.
      const bound = this.lastFrag ? have + this.fragLeft : this.maxRecord;
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * (this.acc?.length ?? 0), 256), bound));
      this.acc?.copy(next, 0, 0, have);
      this.acc = next;
    }
    piece.copy(this.acc, have);
  }

  /**
   * The offset in the pooled buffer at which a record of `len` bytes starting with `head` goes: the
   * one that puts its payload on a PAYLOAD_ALIGN boundary when the locator finds it and it fits,
   * else 0. Only a view of the bytes at hand is looked at: nothing is copied or held to decide.
   */
  private placement(head: Buffer, len: number): number {
    if (this.locate === undefined) return 0;
    const at = this.locate(head);
    if (at < 0) return 0;
    const start = (PAYLOAD_ALIGN - (at % PAYLOAD_ALIGN)) % PAYLOAD_ALIGN;
    return start + len <= this.pool!.size ? start : 0;
  }

  private finishDirect(): void {
    const buf = this.direct!;
    const start = this.directStart;
    const len = this.directFill - start;
    this.direct = undefined;
    this.directStart = 0;
    this.directFill = 0;
    this.recordLen = 0;
    this.fragLeft = -1;
    this.lastFrag = false;
    const pool = this.pool!;
    let released = false;
    this.onRecord(buf.subarray(start, start + len), () => {
      if (!released) {
        released = true;
        pool.release(buf);
      }
    });
  }

  /** Drop a partly assembled record (connection closed). */
  discard(): void {
    if (this.direct) this.pool?.release(this.direct);
    this.direct = undefined;
    this.acc = undefined;
    this.recordLen = 0;
  }

  private finish(record: Buffer): void {
    this.acc = undefined;
    this.recordLen = 0;
    this.fragLeft = -1;
    this.lastFrag = false;
    this.onRecord(record);
  }
}

/** The record-mark header for a reply sent as a single (last) fragment. */
export function recordMark(length: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE((LAST_FRAGMENT | length) >>> 0, 0);
  return h;
}
