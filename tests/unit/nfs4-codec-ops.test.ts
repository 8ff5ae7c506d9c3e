/**
 * NFSv4 codec, operation by operation: every op's arguments go through the
 * client's encoder and the server's decoder and come back equal; every op's
 * results through the server's encoder and the client's decoder; every
 * truncation of them is a typed error; and the table covers every op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader } from '../../src/xdr/index.js';
import { Nfs4Op, nfs4OpName } from '../../src/nfs4/constants.js';
import { DEFAULT_NFS4_LIMITS as lim } from '../../src/nfs4/codec/limits.js';
import { OP_CODECS, opCodec, errorResult } from '../../src/nfs4/codec/table.js';
import { decodeCompoundArgs, decodeCompoundRes, encodeCompoundArgs, encodeCompoundRes } from '../../src/nfs4/codec/compound.js';
import type { Nfs4ArgOp, Nfs4KnownOp, Nfs4ResOp } from '../../src/nfs4/types.js';
import { SAMPLES } from '../helpers/nfs4-samples.js';
import { decodeAll, encodeWith, throwsTyped } from '../helpers/nfs4-wire.js';
import { XdrWriter } from '../../src/xdr/index.js';

const ops = Object.values(Nfs4Op) as Nfs4KnownOp[];

test('the table and the samples cover every operation 3..75', () => {
  assert.equal(ops.length, 73);
  for (let n = 3; n <= 75; n++) {
    assert.ok(opCodec(n), `codec for op ${n}`);
    assert.ok(SAMPLES[n as Nfs4KnownOp], `samples for op ${n}`);
    assert.equal(OP_CODECS[n as Nfs4KnownOp].name, nfs4OpName(n));
  }
  assert.equal(opCodec(2), undefined);
  assert.equal(opCodec(76), undefined);
  assert.equal(opCodec(10044), undefined);
  assert.equal(opCodec(Number('toString' as unknown as number)), undefined);
});

for (const op of ops) {
  const codec = OP_CODECS[op] as (typeof OP_CODECS)[Nfs4KnownOp] & { encodeArgs: (w: XdrWriter, a: unknown) => any; encodeRes: (w: XdrWriter, r: unknown) => any };
  const { args, res } = SAMPLES[op] as { args: unknown[]; res: unknown[] };

  test(`${codec.name} args: client encode → server decode, and every truncation is a typed error`, () => {
    for (const a of args) {
      const bytes = encodeWith(codec.encodeArgs, a);
      assert.equal(bytes.length % 4, 0);
      assert.deepEqual(decodeAll((r) => codec.decodeArgs(r, lim), bytes), a);
      for (let n = 0; n < bytes.length; n++) throwsTyped(() => codec.decodeArgs(new XdrReader(bytes.subarray(0, n)), lim), `${codec.name} args cut at ${n}`);
    }
  });

  test(`${codec.name} results: server encode → client decode, and every truncation is a typed error`, () => {
    for (const v of res) {
      const bytes = encodeWith(codec.encodeRes, v);
      assert.equal(bytes.length % 4, 0);
      assert.deepEqual(decodeAll((r) => codec.decodeRes(r, lim), bytes), v);
      for (let n = 0; n < bytes.length; n++) throwsTyped(() => codec.decodeRes(new XdrReader(bytes.subarray(0, n)), lim), `${codec.name} result cut at ${n}`);
    }
  });
}

test('a COMPOUND of every sample op round-trips both ways (minor version 2)', () => {
  const argOps: Nfs4ArgOp[] = [];
  const resOps: Nfs4ResOp[] = [];
  for (const op of ops) {
    for (const args of SAMPLES[op].args as unknown[]) argOps.push({ op, args } as Nfs4ArgOp);
    for (const res of SAMPLES[op].res as unknown[]) resOps.push({ op, res } as Nfs4ResOp);
  }
  const big = { ...lim, maxOps: 1000 };
  const tag = Buffer.from('every op');
  const req = encodeWith(encodeCompoundArgs, { tag, minorversion: 2, ops: argOps });
  const got = decodeAll((r) => decodeCompoundArgs(r, big), req);
  assert.equal(got.stop, undefined);
  assert.equal(got.truncated, false);
  assert.equal(got.opCount, argOps.length);
  assert.deepEqual(got.tag, tag);
  assert.deepEqual(got.ops, argOps);

  const reply = encodeWith(encodeCompoundRes, { status: 0, tag, results: resOps });
  const back = decodeAll((r) => decodeCompoundRes(r, big), reply);
  assert.deepEqual(back, { status: 0, tag, results: resOps });
});

test('errorResult: status only, and SETATTR keeps its attrsset', () => {
  assert.deepEqual(errorResult(Nfs4Op.LOOKUP, 10036), { op: Nfs4Op.LOOKUP, res: { status: 10036 } });
  assert.deepEqual(errorResult(Nfs4Op.SETATTR, 10036), { op: Nfs4Op.SETATTR, res: { status: 10036, attrsset: [] } });
  for (const op of ops) {
    const r = errorResult(op, 10036);
    const bytes = encodeWith((w, v: Nfs4ResOp) => (OP_CODECS[op].encodeRes as any)(w, v.res), r);
    assert.deepEqual(decodeAll((x) => OP_CODECS[op].decodeRes(x, lim), bytes), r.res, nfs4OpName(op));
  }
});
