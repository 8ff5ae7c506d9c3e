/** Checks shared by the file-handle tests (every handle version must pass the same ones). */
import assert from 'node:assert/strict';
import { decodeFh } from '../../src/export/fh.js';
import { GateError } from '../../src/export/types.js';

/** decodeFh refuses `fh` under `secret` with EBADHANDLE. */
export function rejectsHandle(secret: Buffer, fh: Buffer): void {
  assert.throws(() => decodeFh(secret, fh), (e: unknown) => e instanceof GateError && e.code === 'EBADHANDLE');
}

/** Every single-bit flip, every truncation and a one-byte extension of the valid handle `fh` is refused. */
export function rejectsTampered(secret: Buffer, fh: Buffer): void {
  for (let bit = 0; bit < fh.length * 8; bit++) {
    const bad = Buffer.from(fh);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    rejectsHandle(secret, bad);
  }
  for (let len = 0; len < fh.length; len++) rejectsHandle(secret, fh.subarray(0, len));
  rejectsHandle(secret, Buffer.concat([fh, Buffer.alloc(1)]));
}
