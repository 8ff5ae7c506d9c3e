/** Encode/decode helpers for the NFSv4 codec tests: chunks joined, bytes fully consumed. */
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { ReplyChunk } from '../../src/rpc/program.js';
import { Nfs4CodecError } from '../../src/nfs4/codec/errors.js';

/** What an encoder wrote plus the chunks it lent, as one buffer (chunks must be buffers). */
export function joined(w: XdrWriter, chunks: readonly ReplyChunk[] | void): Buffer {
  const parts: Buffer[] = [Buffer.from(w.finish())];
  for (const c of chunks ?? []) {
    assert.ok(Buffer.isBuffer(c), 'a lent chunk is a buffer here');
    parts.push(c);
  }
  return Buffer.concat(parts);
}

export function encodeWith<T>(encode: (w: XdrWriter, v: T) => readonly ReplyChunk[] | void, v: T): Buffer {
  const w = new XdrWriter(16);
  return joined(w, encode(w, v));
}

/** Decode all of `b` (every byte consumed). */
export function decodeAll<T>(decode: (r: XdrReader) => T, b: Buffer): T {
  const r = new XdrReader(b);
  const v = decode(r);
  assert.equal(r.remaining, 0, 'decoder consumed every byte');
  return v;
}

/** Whether `e` is one of the codec's typed errors (an XdrError from a per-op decoder, or an Nfs4CodecError). */
export function isTyped(e: unknown): boolean {
  return e instanceof Nfs4CodecError || e instanceof XdrError;
}

export function throwsTyped(fn: () => unknown, msg?: string): unknown {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected a throw${msg ? `: ${msg}` : ''}`);
  assert.ok(isTyped(caught), `typed error expected${msg ? ` (${msg})` : ''}, got ${String(caught)}`);
  return caught;
}

export function throwsCode(fn: () => unknown, code: string, msg?: string): Nfs4CodecError {
  const e = Nfs4CodecError.from(throwsTyped(fn, msg));
  assert.equal(e.code, code, msg);
  return e;
}
