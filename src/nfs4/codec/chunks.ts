/**
 * Encoded bytes interleaved with lent chunks. The zero-copy rule of v3
 * (DESIGN.md §3.7) holds in a COMPOUND too: READ data goes on the wire as
 * the buffer (or spliced pipe) the server read into, WRITE data as the
 * client's buffer, never copied into the message. But in v4 such data may
 * sit in the middle of a message (READ then GETATTR), so an encoder lends
 * its chunks and the bytes after them are written into a fresh writer:
 *
 *   first writer (given) | chunk | chunk | writer 2 | chunk | writer 3 ...
 *
 * `finish()` gives what follows the first writer's bytes, in order — the
 * shape both transports take (ProcedureDef.encode's tail, ArgsEncoder's
 * closing chunks), or undefined when nothing was lent.
 */
import { XdrWriter } from '../../xdr/index.js';

export class ChunkList<C extends { readonly length: number }> {
  private readonly first: XdrWriter;
  private cur: XdrWriter;
  private readonly out: (C | Buffer)[] = [];

  constructor(first: XdrWriter) {
    this.first = first;
    this.cur = first;
  }

  /** The writer encoders write into now (it changes after each lend). */
  get w(): XdrWriter {
    return this.cur;
  }

  /** Lend chunks after what was written so far; later writes go after them. */
  lend(chunks: readonly C[] | void): void {
    if (chunks === undefined || chunks.length === 0) return;
    if (this.cur !== this.first && this.cur.length > 0) this.out.push(this.cur.finish());
    for (const c of chunks) this.out.push(c);
    this.cur = new XdrWriter(256);
  }

  /** Everything after the first writer's bytes, or undefined when nothing was lent. */
  finish(): (C | Buffer)[] | undefined {
    if (this.out.length === 0) return undefined;
    if (this.cur !== this.first && this.cur.length > 0) this.out.push(this.cur.finish());
    return this.out;
  }
}
