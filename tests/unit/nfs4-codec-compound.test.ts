/**
 * COMPOUND decoding as the server runner needs it: unknown ops become an
 * illegal marker, undecodable args a stop with the status to answer, the op
 * count and every length are bounded before anything is allocated, any
 * truncation or garbage gives a typed error (never a crash); and the
 * zero-copy rules for WRITE and READ data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { ReplyChunk, ReplyTail } from '../../src/rpc/program.js';
import { Attr4 as A, Nfs4Op as P, Nfs4Stat, OP_ILLEGAL } from '../../src/nfs4/constants.js';
import { DEFAULT_NFS4_LIMITS as lim, nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { Nfs4CodecError } from '../../src/nfs4/codec/errors.js';
import { bitmap4, writeBitmap4 } from '../../src/nfs4/codec/bitmap.js';
import {
  decodeCompoundArgs, decodeCompoundRes, encodeCompoundArgs, encodeCompoundRes, seekCompoundWriteData,
} from '../../src/nfs4/codec/compound.js';
import { encodeReaddir4Res, writeEntry4 } from '../../src/nfs4/codec/ops-dir.js';
import { ILLEGAL_RESULT, OP_CODECS } from '../../src/nfs4/codec/table.js';
import type { Compound4Args, Compound4Res, Nfs4ArgOp, Nfs4KnownOp, Nfs4ResOp } from '../../src/nfs4/types.js';
import { SAMPLES, fh, owner, sess, setAttrs, sid } from '../helpers/nfs4-samples.js';
import { decodeAll, encodeWith, joined, throwsCode, throwsTyped } from '../helpers/nfs4-wire.js';

const seq: Nfs4ArgOp = { op: P.SEQUENCE, args: { sessionid: sess, sequenceid: 1, slotid: 0, highestSlotid: 0, cachethis: false } };
const putfh: Nfs4ArgOp = { op: P.PUTFH, args: { object: fh } };
const getfh: Nfs4ArgOp = { op: P.GETFH, args: undefined };
const getattr: Nfs4ArgOp = { op: P.GETATTR, args: { attrRequest: bitmap4(A.TYPE, A.CHANGE, A.SIZE, A.FILEID) } };
/** The shape of a Linux open-create: SEQUENCE PUTFH OPEN GETFH ACCESS GETATTR. */
const openCreate: Compound4Args = {
  tag: Buffer.alloc(0),
  minorversion: 1,
  ops: [
    seq,
    putfh,
    { op: P.OPEN, args: { seqid: 0, shareAccess: 3, shareDeny: 0, owner, openhow: { opentype: 1, how: { mode: 3, createverf: Buffer.alloc(8, 7), createattrs: setAttrs } }, claim: { claim: 0, file: 'new-file' } } },
    getfh,
    { op: P.ACCESS, args: { access: 0x2d } },
    getattr,
  ],
};

/** COMPOUND4args from raw pieces: the header then each op as its number and raw bytes. */
function rawCompound(minor: number, ops: [number, Buffer?][], count = ops.length, tag = Buffer.alloc(0)): Buffer {
  const w = new XdrWriter();
  w.opaque(tag).uint32(minor).uint32(count);
  for (const [op, body] of ops) {
    w.uint32(op);
    if (body) w.fixedOpaque(body);
  }
  return Buffer.from(w.finish());
}
/** One op's arguments alone (no op number), as the client encodes them. */
function args(op: Nfs4KnownOp, a: unknown): Buffer {
  const w = new XdrWriter();
  return joined(w, (OP_CODECS[op].encodeArgs as (w: XdrWriter, a: unknown) => readonly Buffer[] | void)(w, a));
}
const dec = (b: Buffer, l = lim) => decodeCompoundArgs(new XdrReader(b), l);

test('an unknown op number stops decoding with an illegal marker; the ops before it are kept', () => {
  const b = rawCompound(1, [[P.SEQUENCE, args(P.SEQUENCE, seq.args)], [P.PUTROOTFH], [99], [P.GETFH]]);
  const d = dec(b);
  assert.deepEqual(d.ops.map((o) => o.op), [P.SEQUENCE, P.PUTROOTFH]);
  assert.deepEqual(d.stop, { index: 2, opnum: 99, illegal: true, status: Nfs4Stat.OP_ILLEGAL });
  assert.equal(d.opCount, 4);
  // The answer: the results so far, then OP_ILLEGAL — and it encodes as RFC 8881 says.
  const res: Compound4Res = { status: Nfs4Stat.OP_ILLEGAL, tag: d.tag, results: [{ op: P.SEQUENCE, res: { status: 0, sessionid: sess, sequenceid: 1, slotid: 0, highestSlotid: 0, targetHighestSlotid: 0, statusFlags: 0 } }, { op: P.PUTROOTFH, res: { status: 0 } }, ILLEGAL_RESULT] };
  const reply = encodeWith(encodeCompoundRes, res);
  assert.deepEqual([...reply.subarray(reply.length - 8)], [0, 0, 0x27, 0x3c, 0, 0, 0x27, 0x3c]); // OP_ILLEGAL, NFS4ERR_OP_ILLEGAL
  assert.deepEqual(decodeAll((r) => decodeCompoundRes(r, lim), reply), res);
});

test('which op numbers are legal depends on the minor version', () => {
  for (const [minor, op, legal] of [
    [0, P.RELEASE_LOCKOWNER, true], [0, P.BACKCHANNEL_CTL, false], [1, P.RECLAIM_COMPLETE, true], [1, P.ALLOCATE, false],
    [2, P.REMOVEXATTR, true], [2, 76, false], [1, 0, false], [1, 2, false], [1, OP_ILLEGAL, false], [2, 0xffffffff, false],
  ] as const) {
    const d = dec(rawCompound(minor, [[op, Buffer.alloc(64)]]));
    assert.equal(d.stop?.illegal === true, !legal, `op ${op} in 4.${minor}`);
  }
  // An unknown minor version: the header only, no op looked at (the runner answers MINOR_VERS_MISMATCH).
  const d = dec(rawCompound(3, [[99], [98]]));
  assert.deepEqual({ ops: d.ops, stop: d.stop, opCount: d.opCount, minor: d.minorversion }, { ops: [], stop: undefined, opCount: 2, minor: 3 });
});

test('undecodable arguments stop the COMPOUND at that op with the status RFC 8881 / knfsd give', () => {
  const name = (s: Buffer) => { const w = new XdrWriter(); w.opaque(s); return Buffer.from(w.finish()); };
  const cases: [number, Buffer, string, number][] = [
    [P.LOOKUP, name(Buffer.from('..')), 'NFS4_NAME_BAD', Nfs4Stat.BADNAME],
    [P.LOOKUP, name(Buffer.from('.')), 'NFS4_NAME_BAD', Nfs4Stat.BADNAME],
    [P.LOOKUP, name(Buffer.from('a/b')), 'NFS4_NAME_BAD', Nfs4Stat.BADNAME],
    [P.LOOKUP, name(Buffer.from([0x61, 0])), 'NFS4_NAME_BAD', Nfs4Stat.BADNAME],
    [P.LOOKUP, name(Buffer.alloc(0)), 'NFS4_NAME_EMPTY', Nfs4Stat.INVAL],
    [P.LOOKUP, name(Buffer.alloc(256, 0x61)), 'NFS4_NAME_TOO_LONG', Nfs4Stat.NAMETOOLONG],
    [P.LOOKUP, name(Buffer.from([0xff, 0xfe])), 'NFS4_NAME_NOT_UTF8', Nfs4Stat.INVAL],
    [P.REMOVE, Buffer.from([0, 0, 0, 9, 0x61]), 'NFS4_SHORT', Nfs4Stat.BADXDR],
    [P.WRITE, Buffer.concat([Buffer.alloc(16 + 8), Buffer.from([0, 0, 0, 3]), Buffer.alloc(4)]), 'NFS4_BAD_VALUE', Nfs4Stat.BADXDR],
    [P.LOCK, Buffer.from([0, 0, 0, 9]), 'NFS4_BAD_VALUE', Nfs4Stat.BADXDR],
    [P.SETATTR, Buffer.concat([Buffer.alloc(16), encodeWith((w, v) => void w.uint32(1).uint32(v).uint32(0), 1 << A.TYPE)]), 'NFS4_ATTR_READONLY', Nfs4Stat.INVAL],
    [P.SETATTR, Buffer.concat([Buffer.alloc(16), encodeWith((w, v) => void w.uint32(1).uint32(v).uint32(0), 1 << A.ACL)]), 'NFS4_ATTR_NOTSUPP', Nfs4Stat.ATTRNOTSUPP],
    [P.CREATE, Buffer.from([0, 0, 0, 5, 0, 0, 0x20, 0]), 'NFS4_NAME_TOO_LONG', Nfs4Stat.NAMETOOLONG], // linktext of 8 KiB, not there
    [P.BACKCHANNEL_CTL, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3]), 'NFS4_BAD_VALUE', Nfs4Stat.BADXDR],
  ];
  for (const [op, body, code, status] of cases) {
    const d = dec(rawCompound(2, [[P.PUTROOTFH], [op, body], [P.GETFH]]));
    assert.deepEqual(d.ops.map((o) => o.op), [P.PUTROOTFH], `${op} ${code}`);
    assert.ok(d.stop && !d.stop.illegal, `${op} ${code}: a stop`);
    assert.equal(d.stop.index, 1);
    assert.equal(d.stop.opnum, op);
    assert.equal(d.stop.error.code, code === 'NFS4_NAME_TOO_LONG' && op === P.CREATE ? 'NFS4_SHORT' : code, `${op}`);
    if (!(code === 'NFS4_NAME_TOO_LONG' && op === P.CREATE)) assert.equal(d.stop.status, status, `${op} ${code}`);
  }
  // A symlink target over maxLink that is really there: NAMETOOLONG.
  const long = encodeWith((w, v: Buffer) => void w.uint32(5).opaque(v), Buffer.alloc(lim.maxLink + 1, 0x61));
  const d = dec(rawCompound(2, [[P.CREATE, long]]));
  assert.equal(d.stop && !d.stop.illegal && d.stop.status, Nfs4Stat.NAMETOOLONG);
});

test('a header that does not decode, or a missing op number, is thrown (the RPC layer answers GARBAGE_ARGS)', () => {
  throwsCode(() => dec(Buffer.alloc(0)), 'NFS4_SHORT');
  throwsCode(() => dec(rawCompound(1, [], 0, Buffer.alloc(lim.maxTag + 1))), 'NFS4_TOO_LONG');
  throwsCode(() => dec(rawCompound(1, [[P.PUTROOTFH]], 2)), 'NFS4_SHORT');
  assert.deepEqual(dec(rawCompound(1, [], 0, Buffer.from('tag'))).tag, Buffer.from('tag'));
});

test('truncating a real multi-op COMPOUND at every byte offset gives a typed error or a BADXDR stop, never a crash', () => {
  const full = encodeWith(encodeCompoundArgs, openCreate);
  assert.deepEqual(dec(full).ops, openCreate.ops);
  let stops = 0;
  let throws = 0;
  for (let n = 0; n < full.length; n++) {
    const cut = full.subarray(0, n);
    let d;
    try {
      d = dec(cut);
    } catch (e) {
      assert.ok(e instanceof Nfs4CodecError, `cut at ${n}: ${String(e)}`);
      throws++;
      continue;
    }
    assert.ok(d.stop && !d.stop.illegal, `cut at ${n}: decoding stopped`);
    assert.equal(d.stop.status, Nfs4Stat.BADXDR, `cut at ${n}`);
    assert.ok(d.ops.length < openCreate.ops.length);
    stops++;
  }
  assert.ok(stops > 0 && throws > 0);
  // The reply, cut anywhere, is a typed error for the client.
  const res: Compound4Res = { status: 0, tag: Buffer.alloc(0), results: openCreate.ops.map((o) => ({ op: o.op, res: SAMPLES[o.op].res[0] }) as Nfs4ResOp) };
  const reply = encodeWith(encodeCompoundRes, res);
  assert.deepEqual(decodeAll((r) => decodeCompoundRes(r, lim), reply), res);
  for (let n = 0; n < reply.length; n++) throwsTyped(() => decodeCompoundRes(new XdrReader(reply.subarray(0, n)), lim), `reply cut at ${n}`);
});

/** Arbitrary COMPOUNDs built from the sample ops (every op of 4.2). */
const anyArgOp = fc.constantFrom(...(Object.keys(SAMPLES).map(Number) as Nfs4KnownOp[]).flatMap((op) => (SAMPLES[op].args as unknown[]).map((a) => ({ op, args: a }) as Nfs4ArgOp)));
const anyResOp = fc.constantFrom(...(Object.keys(SAMPLES).map(Number) as Nfs4KnownOp[]).flatMap((op) => (SAMPLES[op].res as unknown[]).map((r) => ({ op, res: r }) as Nfs4ResOp)));

test('property: any COMPOUND of sample ops round-trips, args and results', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(anyArgOp, { maxLength: 20 }), fc.array(anyResOp, { maxLength: 20 }), (tag, ops, results) => {
      const t = Buffer.from(tag);
      const d = decodeAll((r) => decodeCompoundArgs(r, lim), encodeWith(encodeCompoundArgs, { tag: t, minorversion: 2, ops }));
      assert.deepEqual(d, { tag: t, minorversion: 2, opCount: ops.length, truncated: false, ops });
      const res = { status: Nfs4Stat.IO, tag: t, results };
      assert.deepEqual(decodeAll((r) => decodeCompoundRes(r, lim), encodeWith(encodeCompoundRes, res)), res);
    }),
    { numRuns: 300 },
  );
});

test('property: random bytes, and valid COMPOUNDs with bytes changed, never give anything but a typed error', () => {
  const typedOnly = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof Nfs4CodecError, String(e));
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), fc.integer({ min: 0, max: 2 }), (bytes, minor) => {
      const b = Buffer.from(bytes);
      typedOnly(() => decodeCompoundArgs(new XdrReader(b), lim));
      typedOnly(() => decodeCompoundRes(new XdrReader(b), lim));
      // The same bytes after a valid header: every op decoder sees garbage.
      typedOnly(() => decodeCompoundArgs(new XdrReader(Buffer.concat([rawCompound(minor, [], 8), b])), lim));
      typedOnly(() => decodeCompoundRes(new XdrReader(Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]), b])), lim));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(anyArgOp, { minLength: 1, maxLength: 8 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (ops, edits) => {
      const b = Buffer.from(encodeWith(encodeCompoundArgs, { tag: Buffer.alloc(0), minorversion: 2, ops }));
      for (const [at, v] of edits) b[at % b.length] = v;
      typedOnly(() => decodeCompoundArgs(new XdrReader(b), lim));
    }),
    { numRuns: 1000 },
  );
});

test('oversized counts and lengths are refused before allocation', () => {
  const before = process.memoryUsage().arrayBuffers;
  // 10,000 ops with maxOps 16: only 16 decoded, `truncated` tells the runner.
  const many = rawCompound(1, Array.from({ length: 10_000 }, () => [P.PUTROOTFH] as [number]));
  const d = dec(many, nfs4Limits({ maxOps: 16 }));
  assert.equal(d.opCount, 10_000);
  assert.equal(d.truncated, true);
  assert.equal(d.ops.length, 16);
  // A count of 2^32 - 1 with nothing behind it: decoded up to maxOps, then out of bytes.
  throwsCode(() => dec(rawCompound(1, [[P.PUTROOTFH]], 0xffffffff), nfs4Limits({ maxOps: 16 })), 'NFS4_SHORT');
  // A reply with 10,000 results for a client that sent 16 ops.
  const w = new XdrWriter();
  w.uint32(0).uint32(0).uint32(10_000);
  throwsCode(() => decodeCompoundRes(new XdrReader(Buffer.from(w.finish())), nfs4Limits({ maxOps: 16 })), 'NFS4_TOO_LONG');
  // GETATTR with a 2^31-word bitmap: refused before a word is read.
  const bm = dec(rawCompound(1, [[P.PUTROOTFH], [P.GETATTR, Buffer.from([0x80, 0, 0, 0])]]));
  assert.equal(bm.stop && !bm.stop.illegal && bm.stop.error.code, 'NFS4_SHORT');
  assert.equal(bm.stop?.status, Nfs4Stat.BADXDR);
  // GETATTR of attribute 1000 (pynfs GATT testUnknownAttr): decodes, the word that names it dropped.
  const g = dec(rawCompound(1, [[P.PUTROOTFH], [P.GETATTR, encodeWith(writeBitmap4, bitmap4(A.TYPE, 1000))]]));
  assert.equal(g.stop, undefined);
  assert.deepEqual(g.ops[1], { op: P.GETATTR, args: { attrRequest: [1 << A.TYPE, 0, 0, 0, 0, 0, 0, 0] } });
  // OPEN whose owner claims 1 GiB; SETATTR whose owner attribute does.
  const open = encodeWith((x, v: number) => void x.uint32(0).uint32(1).uint32(0).uint64(1n).uint32(v), 1 << 30);
  const o = dec(rawCompound(1, [[P.OPEN, open]]));
  assert.equal(o.stop && !o.stop.illegal && o.stop.error.code, 'NFS4_TOO_LONG');
  const sa = encodeWith((x, v: number) => void x.fixedOpaque(Buffer.alloc(16)).uint32(2).uint32(0).uint32(1 << (A.OWNER - 32)).uint32(8).uint32(v).uint32(0), 1 << 30);
  const s = dec(rawCompound(1, [[P.SETATTR, sa]]));
  assert.equal(s.stop && !s.stop.illegal && s.stop.error.code, 'NFS4_TOO_LONG');
  // WRITE data of 1 GiB, file handle of 4 GiB - 1, a 1 GiB tag, 2^31 stateids.
  for (const [op, body] of [
    [P.WRITE, Buffer.concat([Buffer.alloc(28), Buffer.from([0x40, 0, 0, 0])])],
    [P.PUTFH, Buffer.from([0xff, 0xff, 0xff, 0xff])],
    [P.TEST_STATEID, Buffer.from([0x80, 0, 0, 0])],
    [P.SECINFO, Buffer.from([0xff, 0xff, 0xff, 0xfd])],
  ] as [number, Buffer][]) {
    const x = dec(rawCompound(2, [[op, body]]));
    assert.ok(x.stop && !x.stop.illegal && x.stop.status === Nfs4Stat.BADXDR, `op ${op}`);
  }
  const bigTag = new XdrWriter();
  bigTag.uint32(1 << 30);
  throwsCode(() => dec(Buffer.from(bigTag.finish())), 'NFS4_TOO_LONG');
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20, 'no large allocation');
  // The reader itself: a length near 2^32 must not wrap its padding to 0 and pass.
  assert.throws(() => new XdrReader(Buffer.alloc(8)).fixedOpaque(0xfffffffd), (e: unknown) => e instanceof XdrError && e.code === 'XDR_SHORT');
  assert.throws(() => new XdrReader(Buffer.alloc(8)).skip(0xffffffff), (e: unknown) => e instanceof XdrError && e.code === 'XDR_SHORT');
});

test('zero copy: WRITE data is a view of the record, the client lends it, and the server lends READ data', () => {
  const data = Buffer.from('hello world'); // 11 bytes: 1 byte of padding
  const write: Compound4Args = { tag: Buffer.alloc(0), minorversion: 1, ops: [seq, putfh, { op: P.WRITE, args: { stateid: sid(1), offset: 0n, stable: 0, data } }, getattr] };
  const w = new XdrWriter();
  const chunks = encodeCompoundArgs(w, write);
  assert.ok(chunks && chunks[0] === data, 'the data itself is lent');
  assert.deepEqual(chunks[1], Buffer.alloc(1));
  const record = joined(w, chunks);
  const d = dec(record);
  const got = d.ops[2];
  assert.ok(got.op === P.WRITE);
  assert.equal(got.args.data.buffer, record.buffer, 'a view of the record');
  assert.equal(got.args.data.toString(), 'hello world');
  assert.deepEqual(d.ops[3], getattr);

  // seekPayload: the first WRITE's data offset.
  const r = new XdrReader(record);
  seekCompoundWriteData(r, lim);
  assert.equal(record.subarray(r.offset, r.offset + 11).toString(), 'hello world');
  throwsTyped(() => seekCompoundWriteData(new XdrReader(encodeWith(encodeCompoundArgs, openCreate)), lim));

  // READ then GETATTR: header, data, padding, then the rest in a writer of its own.
  const read = Buffer.from('0123456789'); // 2 bytes of padding
  const res: Compound4Res = {
    status: 0, tag: Buffer.alloc(0),
    results: [{ op: P.PUTFH, res: { status: 0 } }, { op: P.READ, res: { status: 0, eof: false, data: read } }, { op: P.GETATTR, res: { status: 0, attrs: { mask: bitmap4(A.SIZE), values: { size: 10n } } } }],
  };
  const rw = new XdrWriter();
  const tail = encodeCompoundRes(rw, res) as ReplyChunk[];
  assert.equal(tail[0], read);
  assert.deepEqual(tail[1], Buffer.alloc(2));
  assert.equal(tail.length, 3);
  assert.deepEqual(decodeAll((x) => decodeCompoundRes(x, lim), joined(rw, tail)), res);
  // No lent data: no chunks at all.
  assert.equal(encodeCompoundRes(new XdrWriter(), { status: 0, tag: Buffer.alloc(0), results: [{ op: P.PUTFH, res: { status: 0 } }] }), undefined);
});

test('spliced READ data travels as the reply tail; two tails in one reply are refused', () => {
  const fake: ReplyTail = { length: 6, sendTo: () => 0, copyRest: () => 0 };
  const one: Compound4Res = { status: 0, tag: Buffer.alloc(0), results: [{ op: P.READ, res: { status: 0, eof: true, data: Buffer.alloc(0), spliced: fake } }, { op: P.GETATTR, res: { status: 0, attrs: { mask: [], values: {} } } }] };
  const w = new XdrWriter();
  const chunks = encodeCompoundRes(w, one) as ReplyChunk[];
  assert.equal(chunks[0], fake);
  assert.deepEqual(chunks[1], Buffer.alloc(2));
  assert.equal(Buffer.from(w.finish()).readUInt32BE(w.length - 4), 6, 'the data length is the tail length');
  const two = { ...one, results: [one.results[0], one.results[0]] };
  throwsCode(() => encodeCompoundRes(new XdrWriter(), two), 'NFS4_TWO_TAILS');
});

test('READDIR: entries encoded ahead by the server go out as a chunk and decode like the others', () => {
  const e1 = { cookie: 1n, name: 'x', attrs: { mask: bitmap4(A.FILEID), values: { fileid: 5n } } };
  const e2 = { cookie: 2n, name: 'yy', attrs: { mask: [], values: {} } };
  const pre = new XdrWriter();
  writeEntry4(pre, e2);
  const encoded = Buffer.from(pre.finish());
  const w = new XdrWriter();
  const chunks = encodeReaddir4Res(w, { status: 0, cookieverf: Buffer.alloc(8), entries: [e1], eof: true, encoded });
  assert.ok(chunks && chunks[0] === encoded);
  const ok = { status: 0 as const, cookieverf: Buffer.alloc(8), entries: [e1, e2], eof: true };
  const res: Compound4Res = { status: 0, tag: Buffer.alloc(0), results: [{ op: P.READDIR, res: { ...ok, entries: [e1], encoded } }] };
  const rw = new XdrWriter();
  const tail = encodeCompoundRes(rw, res);
  assert.deepEqual(decodeAll((x) => decodeCompoundRes(x, lim), joined(rw, tail)).results[0].res, ok);
});

test('a reply naming an op the codec does not know is a typed error for the client', () => {
  const w = new XdrWriter();
  w.uint32(0).uint32(0).uint32(1).uint32(200).uint32(0);
  throwsCode(() => decodeCompoundRes(new XdrReader(Buffer.from(w.finish())), lim), 'NFS4_UNKNOWN_OP');
});
