/**
 * A growable XDR writer. It writes into one Buffer that doubles when full, so
 * encoding a reply costs one allocation in the common case. Large payloads
 * (READ data) are not copied in: `encodeTail` callers append them as separate
 * chunks and the transport writes header and data with one vectored write.
 */
export class XdrWriter {
  private buf: Buffer;
  private dv: DataView;
  private pos = 0;

  constructor(initial = 512) {
    this.buf = Buffer.allocUnsafe(initial);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /**
   * Room for `n` bytes, written by the caller straight into `bytes` / `view`
   * at the returned offset (for encoders of many fixed fields at once, like
   * READDIRPLUS entries: no per-field bounds checks). The caller must fill
   * all `n` bytes, padding included. Valid until the next call that writes.
   */
  span(n: number): { bytes: Buffer; view: DataView; at: number } {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return { bytes: this.buf, view: this.dv, at };
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.ensure(8);
    // DataView's setter takes the value modulo 2^64 (as BigInt.asUintN) and is ~7× faster than writeBigUInt64BE.
    this.dv.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    // Modulo 2^64 as two's complement (as BigInt.asIntN), like uint64's setter.
    this.dv.setBigInt64(this.pos, v);
    this.pos += 8;
    return this;
  }

  /** A hyper from a safe integer (|v| < 2^53), without making a BigInt: the hot path of attribute times. */
  int64n(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.dv.setInt32(this.pos, hi);
    this.dv.setUint32(this.pos + 4, v - hi * 4294967296);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** Fixed-length opaque: the bytes then zero padding to 4. */
  fixedOpaque(data: Uint8Array): this {
    const n = data.length;
    const padded = (n + 3) & ~3;
    this.ensure(padded);
    // Zero the last word first so padding never leaks old buffer contents.
    if (padded > n) this.buf.writeUInt32BE(0, this.pos + padded - 4);
    this.buf.set(data, this.pos);
    this.pos += padded;
    return this;
  }

  opaque(data: Uint8Array): this {
    this.uint32(data.length);
    return this.fixedOpaque(data);
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  /** Reserve a uint32 slot to fill in later (e.g. a length or count). Returns its offset. */
  reserve32(): number {
    const at = this.pos;
    this.uint32(0);
    return at;
  }

  patch32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /** Drop what was written after the first `length` bytes (an item that turned out not to fit). */
  truncate(length: number): void {
    if (length < 0 || length > this.pos) throw new RangeError(`cannot truncate ${this.pos} bytes to ${length}`);
    this.pos = length;
  }

  /** The encoded bytes so far, as a view (no copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Bytes of padding that follow `n` bytes of opaque data. */
export function xdrPad(n: number): number {
  return (4 - (n & 3)) & 3;
}

const PADDINGS = [0, 1, 2, 3].map((k) => Buffer.alloc(k));

/** The zero bytes that follow `n` bytes of opaque data sent as a chunk of its own (shared: never write to them). */
export function xdrPadding(n: number): Buffer {
  return PADDINGS[xdrPad(n)];
}
