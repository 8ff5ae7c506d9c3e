/**
 * NFSv3 codec: every argument decoder round-trips with its encoder and
 * refuses malformed input with XdrError (→ GARBAGE_ARGS); every result
 * encoder round-trips through its decoder; the size helpers match the bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter, XdrError } from '../../src/xdr/index.js';
import * as C from '../../src/nfs3/codec.js';
import type * as T from '../../src/nfs3/types.js';
import { Ftype3, StableHow3, CreateMode3 } from '../../src/nfs3/constants.js';

const fh = Buffer.from('0123456789abcdef0123456789abcdef', 'hex'); // 16 bytes
const fh64 = Buffer.alloc(64, 7);
const verf8 = Buffer.from('0102030405060708', 'hex');

function enc<A>(write: (w: XdrWriter, a: A) => void, a: A): Buffer {
  const w = new XdrWriter(16);
  write(w, a);
  return Buffer.from(w.finish());
}

function dec<A>(read: (r: XdrReader) => A, b: Buffer): A {
  const r = new XdrReader(b);
  const v = read(r);
  assert.equal(r.remaining, 0, 'decoder consumed every byte');
  return v;
}

function throwsXdr(fn: () => unknown, msg?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof XdrError, msg);
}

const decodeWrite = C.makeDecodeWriteArgs(1 << 20);

const sattrFull: T.Sattr3 = {
  mode: 0o4755,
  uid: 1000,
  gid: 100,
  size: 12345678901n,
  atime: 'server',
  mtime: { seconds: 1700000000, nseconds: 999999999 },
};

interface Case<A> {
  name: string;
  encode: (w: XdrWriter, a: A) => void;
  decode: (r: XdrReader) => A;
  value: A;
}

const cases: Case<any>[] = [
  { name: 'GETATTR', encode: C.encodeGetattrArgs, decode: C.decodeGetattrArgs, value: { object: fh } },
  { name: 'SETATTR', encode: C.encodeSetattrArgs, decode: C.decodeSetattrArgs, value: { object: fh, attrs: sattrFull, guard: { seconds: 5, nseconds: 6 } } },
  { name: 'SETATTR (empty, no guard)', encode: C.encodeSetattrArgs, decode: C.decodeSetattrArgs, value: { object: fh64, attrs: {} } },
  { name: 'LOOKUP', encode: C.encodeLookupArgs, decode: C.decodeLookupArgs, value: { what: { dir: fh, name: 'héllo wörld' } } },
  { name: 'ACCESS', encode: C.encodeAccessArgs, decode: C.decodeAccessArgs, value: { object: fh, access: 0x3f } },
  { name: 'READLINK', encode: C.encodeReadlinkArgs, decode: C.decodeReadlinkArgs, value: { symlink: fh } },
  { name: 'READ', encode: C.encodeReadArgs, decode: C.decodeReadArgs, value: { file: fh, offset: 1n << 40n, count: 65536 } },
  {
    name: 'WRITE',
    encode: C.encodeWriteArgs,
    decode: decodeWrite,
    value: { file: fh, offset: 4096n, count: 5, stable: StableHow3.FILE_SYNC, data: Buffer.from('hello') },
  },
  { name: 'CREATE unchecked', encode: C.encodeCreateArgs, decode: C.decodeCreateArgs, value: { where: { dir: fh, name: 'f' }, how: { mode: CreateMode3.UNCHECKED, attrs: { mode: 0o644 } } } },
  { name: 'CREATE guarded', encode: C.encodeCreateArgs, decode: C.decodeCreateArgs, value: { where: { dir: fh, name: 'f' }, how: { mode: CreateMode3.GUARDED, attrs: sattrFull } } },
  { name: 'CREATE exclusive', encode: C.encodeCreateArgs, decode: C.decodeCreateArgs, value: { where: { dir: fh, name: 'f' }, how: { mode: CreateMode3.EXCLUSIVE, verf: verf8 } } },
  { name: 'MKDIR', encode: C.encodeMkdirArgs, decode: C.decodeMkdirArgs, value: { where: { dir: fh, name: 'd' }, attrs: { mode: 0o755 } } },
  { name: 'SYMLINK', encode: C.encodeSymlinkArgs, decode: C.decodeSymlinkArgs, value: { where: { dir: fh, name: 'l' }, attrs: {}, target: Buffer.from('../x/y') } },
  { name: 'MKNOD chr', encode: C.encodeMknodArgs, decode: C.decodeMknodArgs, value: { where: { dir: fh, name: 'c' }, what: { type: Ftype3.CHR, attrs: { mode: 0o600 }, spec: { specdata1: 1, specdata2: 3 } } } },
  { name: 'MKNOD fifo', encode: C.encodeMknodArgs, decode: C.decodeMknodArgs, value: { where: { dir: fh, name: 'p' }, what: { type: Ftype3.FIFO, attrs: { mode: 0o600 } } } },
  { name: 'MKNOD reg (void arm)', encode: C.encodeMknodArgs, decode: C.decodeMknodArgs, value: { where: { dir: fh, name: 'r' }, what: { type: Ftype3.REG } } },
  { name: 'REMOVE', encode: C.encodeRemoveArgs, decode: C.decodeRemoveArgs, value: { object: { dir: fh, name: 'x' } } },
  { name: 'RMDIR', encode: C.encodeRmdirArgs, decode: C.decodeRmdirArgs, value: { object: { dir: fh, name: 'x' } } },
  { name: 'RENAME', encode: C.encodeRenameArgs, decode: C.decodeRenameArgs, value: { from: { dir: fh, name: 'a' }, to: { dir: fh64, name: 'b' } } },
  { name: 'LINK', encode: C.encodeLinkArgs, decode: C.decodeLinkArgs, value: { file: fh, link: { dir: fh64, name: 'hard' } } },
  { name: 'READDIR', encode: C.encodeReaddirArgs, decode: C.decodeReaddirArgs, value: { dir: fh, cookie: 77n, cookieverf: verf8, count: 4096 } },
  { name: 'READDIRPLUS', encode: C.encodeReaddirplusArgs, decode: C.decodeReaddirplusArgs, value: { dir: fh, cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 512, maxcount: 8192 } },
  { name: 'FSSTAT', encode: C.encodeFsstatArgs, decode: C.decodeFsstatArgs, value: { fsroot: fh } },
  { name: 'FSINFO', encode: C.encodeFsinfoArgs, decode: C.decodeFsinfoArgs, value: { fsroot: fh } },
  { name: 'PATHCONF', encode: C.encodePathconfArgs, decode: C.decodePathconfArgs, value: { object: fh } },
  { name: 'COMMIT', encode: C.encodeCommitArgs, decode: C.decodeCommitArgs, value: { file: fh, offset: 0n, count: 0 } },
];

for (const c of cases) {
  test(`args ${c.name}: round trip`, () => {
    const bytes = enc(c.encode, c.value);
    assert.equal(bytes.length % 4, 0);
    assert.deepEqual(dec(c.decode, bytes), c.value);
  });

  test(`args ${c.name}: every truncation throws XdrError`, () => {
    const bytes = enc(c.encode, c.value);
    for (let n = 0; n < bytes.length; n++) throwsXdr(() => c.decode(new XdrReader(bytes.subarray(0, n))), `cut at ${n}`);
  });
}

/** Encode a diropargs3 with raw name bytes (bypassing the encoder's string). */
function rawDirop(dir: Buffer, name: Buffer): Buffer {
  const w = new XdrWriter();
  w.opaque(dir).opaque(name);
  return Buffer.from(w.finish());
}

test('file handles: 0 bytes and 65 bytes are refused, 64 accepted', () => {
  throwsXdr(() => C.decodeGetattrArgs(new XdrReader(enc((w, b: Buffer) => w.opaque(b), Buffer.alloc(0)))));
  throwsXdr(() => C.decodeGetattrArgs(new XdrReader(enc((w, b: Buffer) => w.opaque(b), Buffer.alloc(65)))));
  assert.equal(C.decodeGetattrArgs(new XdrReader(enc((w, b: Buffer) => w.opaque(b), fh64))).object.length, 64);
  // A huge declared length fails before anything is allocated.
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0xfffffff0, 0);
  throwsXdr(() => C.decodeGetattrArgs(new XdrReader(huge)));
});

test('filenames: "/", NUL, empty, >255 bytes and invalid UTF-8 are refused', () => {
  const bad = [
    Buffer.from('a/b'),
    Buffer.from('/'),
    Buffer.from([0x61, 0x00, 0x62]),
    Buffer.alloc(0),
    Buffer.alloc(256, 0x61),
    Buffer.from([0xff, 0xfe]),
  ];
  for (const name of bad) {
    const b = rawDirop(fh, name);
    throwsXdr(() => C.decodeLookupArgs(new XdrReader(b)), `name ${name.toString('hex')}`);
    throwsXdr(() => C.decodeRemoveArgs(new XdrReader(b)));
  }
  // 255 bytes and "." / ".." pass the decoder (handlers decide about dots).
  assert.equal(C.decodeLookupArgs(new XdrReader(rawDirop(fh, Buffer.alloc(255, 0x61)))).what.name.length, 255);
  assert.equal(C.decodeLookupArgs(new XdrReader(rawDirop(fh, Buffer.from('..')))).what.name, '..');
});

test('RENAME refuses a bad target name too', () => {
  const w = new XdrWriter();
  w.opaque(fh).string('ok').opaque(fh).string('bad/name');
  throwsXdr(() => C.decodeRenameArgs(new XdrReader(Buffer.from(w.finish()))));
});

test('symlink target: any length the record holds decodes (as a view); the handler judges it, as knfsd', () => {
  for (const n of [1024, 1100, 4095, 4096, 5000]) {
    const rec = enc(C.encodeSymlinkArgs, { where: { dir: fh, name: 'l' }, attrs: {}, target: Buffer.alloc(n, 0x61) });
    const t = C.decodeSymlinkArgs(new XdrReader(rec)).target;
    assert.equal(t.length, n);
    assert.equal(t.buffer, rec.buffer, 'a view of the record, nothing allocated');
  }
  // A length past the end of the record is refused before anything is read.
  const w = new XdrWriter();
  w.opaque(fh).string('l').uint32(0).uint32(0).uint32(0).uint32(0).uint32(0).uint32(0).uint32(0xfffffff0);
  throwsXdr(() => C.decodeSymlinkArgs(new XdrReader(Buffer.from(w.finish()))));
});

function writeArgs(count: number, data: Buffer, stable = 0): Buffer {
  const w = new XdrWriter();
  w.opaque(fh).uint64(0n).uint32(count).uint32(stable).opaque(data);
  return Buffer.from(w.finish());
}

test('WRITE: data length must equal count', () => {
  throwsXdr(() => decodeWrite(new XdrReader(writeArgs(4, Buffer.from('hello')))));
  throwsXdr(() => decodeWrite(new XdrReader(writeArgs(6, Buffer.from('hello')))));
  assert.equal(decodeWrite(new XdrReader(writeArgs(5, Buffer.from('hello')))).count, 5);
});

test('WRITE: data beyond the configured maximum is refused; data is a zero-copy view', () => {
  const small = C.makeDecodeWriteArgs(8);
  throwsXdr(() => small(new XdrReader(writeArgs(9, Buffer.alloc(9)))));
  const rec = writeArgs(8, Buffer.from('abcdefgh'));
  const a = small(new XdrReader(rec));
  assert.equal(a.data.buffer, rec.buffer, 'same memory as the record');
  rec[rec.length - 1] = 0x5a;
  assert.equal(a.data.toString(), 'abcdefgZ');
});

test('enums: bad stable_how, createmode3, time_how, bool are refused', () => {
  throwsXdr(() => decodeWrite(new XdrReader(writeArgs(1, Buffer.from('x'), 3))));
  const w = new XdrWriter();
  w.opaque(fh).string('f').uint32(3);
  throwsXdr(() => C.decodeCreateArgs(new XdrReader(Buffer.from(w.finish()))));
  // sattr3 with set_atime = 3
  const s = new XdrWriter();
  s.opaque(fh).uint32(0).uint32(0).uint32(0).uint32(0).uint32(3).uint32(0).uint32(0);
  throwsXdr(() => C.decodeSetattrArgs(new XdrReader(Buffer.from(s.finish()))));
  // set_mode3 with bool 2
  const b = new XdrWriter();
  b.opaque(fh).uint32(2).uint32(0o644);
  throwsXdr(() => C.decodeSetattrArgs(new XdrReader(Buffer.from(b.finish()))));
});

// ---- results ----

const fattr: T.Fattr3 = {
  type: Ftype3.REG,
  mode: 0o644,
  nlink: 1,
  uid: 1000,
  gid: 1000,
  size: 5n,
  used: 4096n,
  rdev: { specdata1: 0, specdata2: 0 },
  fsid: 0xdeadbeefn,
  fileid: 42n,
  atime: { seconds: 1, nseconds: 2 },
  mtime: { seconds: 3, nseconds: 4 },
  ctime: { seconds: 5, nseconds: 6 },
};
const wcc: T.WccData = { before: { size: 4n, mtime: { seconds: 1, nseconds: 0 }, ctime: { seconds: 2, nseconds: 0 } }, after: fattr };

interface ResCase { name: string; encode: (w: XdrWriter, r: any) => unknown; decode: (r: XdrReader) => unknown; values: unknown[] }
const resCases: ResCase[] = [
  { name: 'GETATTR', encode: C.encodeGetattrRes, decode: C.decodeGetattrRes, values: [{ status: 0, attrs: fattr }, { status: 70 }] },
  { name: 'SETATTR', encode: C.encodeSetattrRes, decode: C.decodeSetattrRes, values: [{ status: 0, wcc }, { status: 10002, wcc: { before: undefined, after: undefined } }] },
  { name: 'LOOKUP', encode: C.encodeLookupRes, decode: C.decodeLookupRes, values: [{ status: 0, object: fh, objAttrs: fattr, dirAttrs: undefined }, { status: 2, dirAttrs: fattr }] },
  { name: 'ACCESS', encode: C.encodeAccessRes, decode: C.decodeAccessRes, values: [{ status: 0, objAttrs: fattr, access: 3 }, { status: 13, objAttrs: undefined }] },
  { name: 'READLINK', encode: C.encodeReadlinkRes, decode: C.decodeReadlinkRes, values: [{ status: 0, attrs: fattr, data: '../t' }, { status: 22, attrs: fattr }] },
  { name: 'WRITE', encode: C.encodeWriteRes, decode: C.decodeWriteRes, values: [{ status: 0, wcc, count: 9, committed: 2, verf: verf8 }, { status: 28, wcc }] },
  { name: 'CREATE', encode: C.encodeDirCreateRes, decode: C.decodeDirCreateRes, values: [{ status: 0, obj: fh, objAttrs: fattr, dirWcc: wcc }, { status: 0, obj: undefined, objAttrs: undefined, dirWcc: wcc }, { status: 17, dirWcc: wcc }] },
  { name: 'REMOVE', encode: C.encodeRemoveRes, decode: C.decodeRemoveRes, values: [{ status: 0, dirWcc: wcc }] },
  { name: 'RENAME', encode: C.encodeRenameRes, decode: C.decodeRenameRes, values: [{ status: 18, fromDirWcc: wcc, toDirWcc: { before: undefined, after: fattr } }] },
  { name: 'LINK', encode: C.encodeLinkRes, decode: C.decodeLinkRes, values: [{ status: 0, fileAttrs: fattr, linkDirWcc: wcc }] },
  {
    name: 'READDIR',
    encode: C.encodeReaddirRes,
    decode: C.decodeReaddirRes,
    values: [
      { status: 0, dirAttrs: fattr, cookieverf: verf8, entries: [{ fileid: 1n, name: 'a', cookie: 1n }, { fileid: 2n, name: 'bcdef', cookie: 9n }], eof: true },
      { status: 10005, dirAttrs: undefined },
    ],
  },
  {
    name: 'READDIRPLUS',
    encode: C.encodeReaddirplusRes,
    decode: C.decodeReaddirplusRes,
    values: [
      {
        status: 0,
        dirAttrs: fattr,
        cookieverf: verf8,
        entries: [
          { fileid: 1n, name: 'a', cookie: 1n, attrs: fattr, handle: fh },
          { fileid: 2n, name: 'gone', cookie: 2n, attrs: undefined, handle: undefined },
        ],
        eof: false,
      },
    ],
  },
  { name: 'FSSTAT', encode: C.encodeFsstatRes, decode: C.decodeFsstatRes, values: [{ status: 0, attrs: fattr, tbytes: 1n, fbytes: 2n, abytes: 3n, tfiles: 4n, ffiles: 5n, afiles: 6n, invarsec: 0 }] },
  {
    name: 'FSINFO',
    encode: C.encodeFsinfoRes,
    decode: C.decodeFsinfoRes,
    values: [{ status: 0, attrs: fattr, rtmax: 1 << 20, rtpref: 1 << 20, rtmult: 4096, wtmax: 1 << 20, wtpref: 1 << 20, wtmult: 4096, dtpref: 65536, maxfilesize: (1n << 63n) - 1n, timeDelta: { seconds: 0, nseconds: 1 }, properties: 0x1b }],
  },
  { name: 'PATHCONF', encode: C.encodePathconfRes, decode: C.decodePathconfRes, values: [{ status: 0, attrs: undefined, linkmax: 65000, nameMax: 255, noTrunc: true, chownRestricted: true, caseInsensitive: false, casePreserving: true }] },
  { name: 'COMMIT', encode: C.encodeCommitRes, decode: C.decodeCommitRes, values: [{ status: 0, wcc, verf: verf8 }, { status: 5, wcc }] },
];

for (const c of resCases) {
  test(`result ${c.name}: round trip`, () => {
    for (const v of c.values) assert.deepEqual(dec(c.decode, enc(c.encode as any, v)), v);
  });
}

test('READ result: data goes out as tail chunks with XDR padding', () => {
  const data = Buffer.from('hello');
  const w = new XdrWriter();
  const chunks = C.encodeReadRes(w, { status: 0, attrs: fattr, count: 5, eof: true, data });
  assert.ok(Array.isArray(chunks));
  assert.equal(chunks[0], data, 'the data view itself, not a copy');
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[1], Buffer.alloc(3));
  const whole = Buffer.concat([w.finish(), ...(chunks as Buffer[])]);
  const back = C.decodeReadRes(new XdrReader(whole), 1 << 20);
  assert.ok(back.status === 0);
  assert.equal(back.data.toString(), 'hello');
  assert.equal(back.eof, true);
  // Aligned data needs no padding chunk; failure has no chunks at all.
  assert.equal((C.encodeReadRes(new XdrWriter(), { status: 0, attrs: undefined, count: 4, eof: false, data: Buffer.from('abcd') }) as Buffer[]).length, 1);
  assert.equal(C.encodeReadRes(new XdrWriter(), { status: 5, attrs: undefined }), undefined);
});

test('size helpers match the encoded bytes', () => {
  for (const attrs of [fattr, undefined]) {
    const base: T.ReaddirRes = { status: 0, dirAttrs: attrs, cookieverf: verf8, entries: [], eof: true };
    assert.equal(enc(C.encodeReaddirRes, base).length - 4, C.readdirFixedSize(attrs));
    const names = ['a', 'ab', 'abc', 'abcd', 'abcde', 'é', 'x'.repeat(255)];
    const entries = names.map((name, i) => ({ fileid: BigInt(i + 1), name, cookie: BigInt(i + 1) }));
    const full = enc(C.encodeReaddirRes, { ...base, entries });
    const sum = entries.reduce((n, e) => n + C.entry3Size(Buffer.byteLength(e.name)), 0);
    assert.equal(full.length - 4, C.readdirFixedSize(attrs) + sum);
    const plus = entries.map((e, i) => ({ ...e, attrs: i % 2 ? fattr : undefined, handle: i % 3 ? fh : undefined }));
    const fullPlus = enc(C.encodeReaddirplusRes, { ...base, entries: plus });
    const sumPlus = plus.reduce((n, e) => n + C.entryPlus3Size(Buffer.byteLength(e.name), e), 0);
    assert.equal(fullPlus.length - 4, C.readdirFixedSize(attrs) + sumPlus);
  }
  assert.equal(C.FATTR3_SIZE, enc(C.writeFattr, fattr).length);
});
