import { XdrError } from './errors.js';

/**
 * n rounded up to a multiple of 4, for any n a uint32 can hold. Not `(n + 3) & ~3`: bitwise operators
 * work on signed 32-bit integers, so from 2^31 - 3 up that is negative or wraps to a small number,
 * and a length word from the wire (an opaque<max> with a max that large) would pass the bounds check
 * and move the reader backwards.
 */
function paddedLength(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

/**
 * A bounded XDR (RFC 4506) reader over one Buffer. Every variable-length item
 * takes an explicit maximum, checked against both that maximum and the bytes
 * actually left *before* anything is allocated. Opaque data is returned as a
 * view of the underlying record (zero copy): callers that keep it beyond the
 * life of the record must copy it.
 */
export class XdrReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;
  /** For 64-bit reads (several times faster than Buffer's readBig*); made on the first. */
  private dv: DataView | undefined;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  private view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** The bytes not read yet, as a view (nothing is consumed). */
  rest(): Buffer {
    return this.buf.subarray(this.pos, this.end);
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new XdrError('XDR_SHORT', `truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
    }
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8, 'uint64');
    const v = this.view().getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  int64(): bigint {
    this.need(8, 'int64');
    const v = this.view().getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    const v = this.uint32();
    if (v > 1) throw new XdrError('XDR_BAD_VALUE', `bad boolean ${v}`);
    return v === 1;
  }

  /** An enum value that must be one of `allowed` (or any uint32 when omitted). */
  enumValue<T extends number>(allowed?: ReadonlySet<number>): T {
    const v = this.int32();
    if (allowed && !allowed.has(v)) throw new XdrError('XDR_BAD_VALUE', `bad enum value ${v}`);
    return v as T;
  }

  /** Fixed-length opaque of exactly n bytes (padded to 4). Returns a view. */
  fixedOpaque(n: number): Buffer {
    const padded = paddedLength(n);
    this.need(padded, 'fixed opaque');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return v;
  }

  /** Variable-length opaque<max>. Returns a view of the record. */
  opaque(max: number): Buffer {
    const len = this.uint32();
    if (len > max) throw new XdrError('XDR_TOO_LONG', `opaque length ${len} exceeds ${max}`);
    return this.fixedOpaque(len);
  }

  /** string<max>, decoded as UTF-8 (lossy for invalid sequences, like Linux names are bytes). */
  string(max: number): string {
    return this.opaque(max).toString('utf8');
  }

  /** An optional (XDR `*T`): a boolean then the value when present. */
  optional<T>(read: (r: XdrReader) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  /** A counted array<max> whose elements are read with `read`. */
  array<T>(max: number, read: (r: XdrReader) => T): T[] {
    const n = this.uint32();
    if (n > max) throw new XdrError('XDR_TOO_LONG', `array length ${n} exceeds ${max}`);
    // Each element takes at least 4 bytes: reject before allocating.
    if (n * 4 > this.remaining) throw new XdrError('XDR_SHORT', `array of ${n} cannot fit in ${this.remaining} bytes`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }

  skip(n: number): void {
    const padded = paddedLength(n);
    this.need(padded, 'skip');
    this.pos += padded;
  }

  /** Throws unless every byte has been consumed (trailing garbage is an error in strict decoders). */
  expectEnd(): void {
    if (this.pos !== this.end) throw new XdrError('XDR_BAD_VALUE', `${this.end - this.pos} trailing bytes`);
  }
}
