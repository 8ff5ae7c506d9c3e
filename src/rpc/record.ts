import { RpcTransportError } from './errors.js';

/**
 * RPC record marking over a byte stream (RFC 5531 §11). A record is one or
 * more fragments, each with a 4-byte header: the high bit marks the last
 * fragment, the low 31 bits are its length. Input may be split at any byte.
 *
 * Bounds: the sum of a record's fragment lengths is checked against
 * `maxRecord` as each header arrives — before any of its bytes are buffered —
 * so a hostile peer can make us hold at most `maxRecord` bytes per connection.
 */
export const LAST_FRAGMENT = 0x80000000;

export class RecordReader {
  private readonly maxRecord: number;
  private readonly onRecord: (record: Buffer) => void;
  /** Chunks of the record being assembled (views of socket buffers). */
  private parts: Buffer[] = [];
  private recordLen = 0;
  /** Bytes still expected in the current fragment; -1 while reading a header. */
  private fragLeft = -1;
  private lastFrag = false;
  private header = Buffer.alloc(4);
  private headerHave = 0;

  constructor(maxRecord: number, onRecord: (record: Buffer) => void) {
    this.maxRecord = maxRecord;
    this.onRecord = onRecord;
  }

  /** Bytes currently held for an incomplete record. */
  get buffered(): number {
    return this.recordLen;
  }

  /** Feed bytes from the stream. Throws RpcTransportError on a record over the cap. */
  push(chunk: Buffer): void {
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
        if (this.fragLeft === 0 && this.lastFrag) this.finish();
        else if (this.fragLeft === 0) this.fragLeft = -1;
        continue;
      }
      const take = Math.min(this.fragLeft, chunk.length - off);
      this.parts.push(chunk.subarray(off, off + take));
      this.recordLen += take;
      this.fragLeft -= take;
      off += take;
      if (this.fragLeft === 0) {
        if (this.lastFrag) this.finish();
        else this.fragLeft = -1;
      }
    }
  }

  private finish(): void {
    const parts = this.parts;
    const record = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.recordLen);
    this.parts = [];
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
