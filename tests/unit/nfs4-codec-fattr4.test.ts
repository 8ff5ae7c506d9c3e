/**
 * fattr4 and bitmap4: every attribute the codec knows round-trips alone and
 * all together, values go out in bit order with only the bits that have a
 * value, the settable rules give ATTRNOTSUPP / INVAL, and an attrlist4
 * whose length does not match its bitmap is BADXDR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { Attr4 as A, Nfs4Stat } from '../../src/nfs4/constants.js';
import { DEFAULT_NFS4_LIMITS as lim, nfs4Limits } from '../../src/nfs4/codec/limits.js';
import {
  bitmap4, bitmap4And, bitmap4Bits, bitmap4From, bitmap4Has, bitmap4IsEmpty, bitmap4Minus, readBitmap4, writeBitmap4,
} from '../../src/nfs4/codec/bitmap.js';
import { decodeFattr4, encodeFattr4, fattr4Select, fattr4SentMask } from '../../src/nfs4/codec/fattr4.js';
import { ATTR_ROWS, KNOWN_ATTRS, SETTABLE_ATTRS } from '../../src/nfs4/codec/fattr4-table.js';
import type { Fattr4, Fattr4Values } from '../../src/nfs4/types.js';
import { decodeAll, encodeWith, throwsCode } from '../helpers/nfs4-wire.js';

/** A value for every attribute the codec knows. */
const VALUES: Required<Fattr4Values> = {
  supportedAttrs: [0xffffffff, 0x00ffffff, 0x7],
  type: 2,
  fhExpireType: 0,
  change: 0x0123456789abcdefn,
  size: 0xfffffffffffffffen,
  linkSupport: true,
  symlinkSupport: true,
  namedAttr: false,
  fsid: { major: 0n, minor: 0xffffffffffffffffn },
  uniqueHandles: true,
  leaseTime: 90,
  rdattrError: Nfs4Stat.ACCESS,
  aclsupport: 0,
  cansettime: true,
  caseInsensitive: false,
  casePreserving: true,
  chownRestricted: true,
  filehandle: Buffer.from('0102030405', 'hex'),
  fileid: 1n,
  filesAvail: 100n,
  filesFree: 200n,
  filesTotal: 300n,
  fsLocations: { fsRoot: ['srv', 'data'], locations: [] },
  homogeneous: true,
  maxfilesize: (1n << 63n) - 1n,
  maxlink: 65000,
  maxname: 255,
  maxread: 1048576n,
  maxwrite: 1048576n,
  mode: 0o4755,
  noTrunc: true,
  numlinks: 2,
  owner: '1000',
  ownerGroup: 'staff@example.org',
  rawdev: { specdata1: 8, specdata2: 1 },
  spaceAvail: 1n,
  spaceFree: 2n,
  spaceTotal: 3n,
  spaceUsed: 4096n,
  timeAccess: { seconds: 1n, nseconds: 2 },
  timeAccessSet: { seconds: -5n, nseconds: 999999999 },
  timeCreate: { seconds: 3n, nseconds: 4 },
  timeDelta: { seconds: 0n, nseconds: 1 },
  timeMetadata: { seconds: 5n, nseconds: 6 },
  timeModify: { seconds: 7n, nseconds: 8 },
  timeModifySet: 'server',
  mountedOnFileid: 9n,
  fsLayoutTypes: [],
  layoutBlksize: 4096,
  suppattrExclcreat: bitmap4(A.SIZE, A.MODE, A.OWNER),
  cloneBlksize: 0,
  changeAttrType: 1,
  modeUmask: { mode: 0o777, umask: 0o022 },
  xattrSupport: true,
};

const attr = (a: Fattr4) => encodeWith(encodeFattr4, a);
const back = (b: Buffer, mode: 'any' | 'settable' = 'any') => decodeAll((r) => decodeFattr4(r, lim, mode), b);

test('the codec knows every attribute a server must serve and the ones the Linux client reads', () => {
  const wanted = [
    A.SUPPORTED_ATTRS, A.TYPE, A.FH_EXPIRE_TYPE, A.CHANGE, A.SIZE, A.LINK_SUPPORT, A.SYMLINK_SUPPORT, A.NAMED_ATTR,
    A.FSID, A.UNIQUE_HANDLES, A.LEASE_TIME, A.RDATTR_ERROR, A.FILEHANDLE, A.ACLSUPPORT, A.CANSETTIME,
    A.CASE_INSENSITIVE, A.CASE_PRESERVING, A.CHOWN_RESTRICTED, A.FILEID, A.FILES_AVAIL, A.FILES_FREE, A.FILES_TOTAL,
    A.FS_LOCATIONS, A.HOMOGENEOUS, A.MAXFILESIZE, A.MAXLINK, A.MAXNAME, A.MAXREAD, A.MAXWRITE, A.MODE, A.NO_TRUNC,
    A.NUMLINKS, A.OWNER, A.OWNER_GROUP, A.RAWDEV, A.SPACE_AVAIL, A.SPACE_FREE, A.SPACE_TOTAL, A.SPACE_USED,
    A.TIME_ACCESS, A.TIME_ACCESS_SET, A.TIME_DELTA, A.TIME_METADATA, A.TIME_MODIFY, A.TIME_MODIFY_SET,
    A.MOUNTED_ON_FILEID, A.TIME_CREATE, A.FS_LAYOUT_TYPES, A.LAYOUT_BLKSIZE, A.SUPPATTR_EXCLCREAT,
    A.CHANGE_ATTR_TYPE, A.CLONE_BLKSIZE, A.XATTR_SUPPORT,
  ];
  for (const a of wanted) assert.ok(KNOWN_ATTRS.includes(a), `attribute ${a}`);
  assert.deepEqual([...KNOWN_ATTRS].sort((x, y) => x - y), KNOWN_ATTRS, 'rows in bit order');
  assert.deepEqual(SETTABLE_ATTRS, [A.SIZE, A.MODE, A.OWNER, A.OWNER_GROUP, A.TIME_ACCESS_SET, A.TIME_CREATE, A.TIME_MODIFY_SET, A.MODE_UMASK]);
  assert.equal(Object.keys(VALUES).length, ATTR_ROWS.length, 'a test value per attribute');
});

for (const row of ATTR_ROWS) {
  test(`fattr4 attribute ${row.bit} (${row.key}) round-trips`, () => {
    const a: Fattr4 = { mask: bitmap4(row.bit), values: { [row.key]: VALUES[row.key] } };
    const bytes = attr(a);
    assert.deepEqual(back(bytes), a);
    if (row.settable) assert.deepEqual(back(bytes, 'settable'), a);
    else throwsCode(() => back(bytes, 'settable'), 'NFS4_ATTR_READONLY');
  });
}

test('fattr4 with every known attribute at once: values in bit order, length exact', () => {
  const all: Fattr4 = { mask: bitmap4From(KNOWN_ATTRS), values: VALUES };
  const bytes = attr(all);
  assert.deepEqual(back(bytes), all);
  // attrlist4's length word is the byte count of the values that follow it.
  const r = new XdrReader(bytes);
  readBitmap4(r, lim);
  assert.equal(r.uint32(), r.remaining);
});

test('encode sends only bits with a value that the codec knows; select is requested ∩ supported', () => {
  const a: Fattr4 = { mask: bitmap4(A.SIZE, A.ACL, A.MODE, A.ARCHIVE, 200), values: { size: 1n, owner: 'x' } };
  assert.deepEqual(fattr4SentMask(a), bitmap4(A.SIZE));
  assert.deepEqual(back(attr(a)), { mask: bitmap4(A.SIZE), values: { size: 1n } });
  const sel = fattr4Select(bitmap4(A.TYPE, A.SIZE, A.ACL, A.FILEID), bitmap4(A.TYPE, A.SIZE, A.FILEID, A.MODE), VALUES);
  assert.deepEqual(sel.mask, bitmap4(A.TYPE, A.SIZE, A.FILEID));
  assert.deepEqual(back(attr(sel)).values, { type: 2, size: VALUES.size, fileid: 1n });
  // Nothing requested: an empty bitmap and an empty attrlist.
  assert.deepEqual([...attr({ mask: [], values: VALUES })], [0, 0, 0, 0, 0, 0, 0, 0]);
});

function rawFattr(words: number[], list: Buffer): Buffer {
  const w = new XdrWriter();
  writeBitmap4(w, words);
  w.opaque(list);
  return Buffer.from(w.finish());
}

test('settable decode: read-only is INVAL, unknown or acl is ATTRNOTSUPP (before the values are read)', () => {
  const ro = throwsCode(() => back(rawFattr(bitmap4(A.SIZE, A.FILEID), Buffer.alloc(16)), 'settable'), 'NFS4_ATTR_READONLY');
  assert.equal(ro.status, Nfs4Stat.INVAL);
  const acl = throwsCode(() => back(rawFattr(bitmap4(A.ACL), Buffer.alloc(4)), 'settable'), 'NFS4_ATTR_NOTSUPP');
  assert.equal(acl.status, Nfs4Stat.ATTRNOTSUPP);
  throwsCode(() => back(rawFattr(bitmap4(A.TYPE, A.ARCHIVE), Buffer.alloc(8)), 'settable'), 'NFS4_ATTR_NOTSUPP');
  throwsCode(() => back(rawFattr(bitmap4(A.HIDDEN), Buffer.alloc(0)), 'settable'), 'NFS4_ATTR_NOTSUPP');
  // Refused from the bitmap alone, even when the attrlist is missing.
  const w = new XdrWriter();
  writeBitmap4(w, bitmap4(A.TYPE));
  throwsCode(() => back(Buffer.from(w.finish()), 'settable'), 'NFS4_ATTR_READONLY');
  // 'any' mode knows read-only attributes but not unknown ones.
  throwsCode(() => back(rawFattr(bitmap4(A.SYSTEM), Buffer.alloc(4))), 'NFS4_ATTR_NOTSUPP');
  throwsCode(() => back(rawFattr([0, 0, 0, 1], Buffer.alloc(4))), 'NFS4_ATTR_NOTSUPP');
  // Unknown bits beyond the known words in a *request* bitmap are just kept (GETATTR ignores them).
  assert.deepEqual(decodeAll((r) => readBitmap4(r, lim), encodeWith(writeBitmap4, [1, 0, 0, 0x80000000])), [1, 0, 0, 0x80000000]);
});

test('attrlist4 length must match the bitmap: longer or shorter is BADXDR; over maxAttrBytes is refused unread', () => {
  const good = attr({ mask: bitmap4(A.SIZE, A.MODE), values: { size: 1n, mode: 0o600 } });
  const list = good.subarray(16); // bitmap: count + 2 words; then length 12 and 12 bytes
  assert.equal(list.length, 12);
  const longer = rawFattr(bitmap4(A.SIZE, A.MODE), Buffer.concat([list, Buffer.alloc(4)]));
  const e = throwsCode(() => back(longer, 'settable'), 'NFS4_ATTRLIST_LENGTH');
  assert.equal(e.status, Nfs4Stat.BADXDR);
  throwsCode(() => back(rawFattr(bitmap4(A.SIZE, A.MODE), list.subarray(0, 8)), 'settable'), 'NFS4_ATTRLIST_LENGTH');
  throwsCode(() => back(rawFattr(bitmap4(A.OWNER), Buffer.from([0, 0, 0, 9, 0x61, 0x62, 0x63, 0x64]))), 'NFS4_ATTRLIST_LENGTH');
  // A declared length beyond the limit: TOO_LONG, whatever follows.
  const w = new XdrWriter();
  writeBitmap4(w, bitmap4(A.SIZE));
  w.uint32(lim.maxAttrBytes + 4);
  throwsCode(() => back(Buffer.from(w.finish())), 'NFS4_TOO_LONG');
  // Within the limit but past the record: SHORT.
  const w2 = new XdrWriter();
  writeBitmap4(w2, bitmap4(A.SIZE));
  w2.uint32(1024);
  throwsCode(() => back(Buffer.from(w2.finish())), 'NFS4_SHORT');
});

test('settime4 and times to set: a bad time_how4 is BADXDR, nseconds ≥ 10^9 is INVAL', () => {
  const w = new XdrWriter();
  w.uint32(2);
  throwsCode(() => back(rawFattr(bitmap4(A.TIME_MODIFY_SET), Buffer.from(w.finish())), 'settable'), 'NFS4_BAD_VALUE');
  const t = new XdrWriter();
  t.uint32(1).int64(0n).uint32(1_000_000_000);
  const e = throwsCode(() => back(rawFattr(bitmap4(A.TIME_ACCESS_SET), Buffer.from(t.finish())), 'settable'), 'NFS4_TIME_BAD');
  assert.equal(e.status, Nfs4Stat.INVAL);
  // A time a server reports is not judged.
  const m = new XdrWriter();
  m.int64(0n).uint32(1_000_000_000);
  assert.deepEqual(back(rawFattr(bitmap4(A.TIME_MODIFY), Buffer.from(m.finish()))).values, { timeModify: { seconds: 0n, nseconds: 1e9 } });
});

test('owner strings are bounded by maxOwner (a 1 GiB length is refused before anything is read)', () => {
  const w = new XdrWriter();
  w.uint32(1 << 30);
  throwsCode(() => back(rawFattr(bitmap4(A.OWNER), Buffer.from(w.finish())), 'settable'), 'NFS4_TOO_LONG');
  const small = nfs4Limits({ maxOwner: 4 });
  const five = attr({ mask: bitmap4(A.OWNER), values: { owner: '12345' } });
  throwsCode(() => decodeFattr4(new XdrReader(five), small, 'settable'), 'NFS4_TOO_LONG');
  assert.equal(decodeFattr4(new XdrReader(five), lim, 'settable').values.owner, '12345');
});

test('bitmap4: word bounds before allocation, words past the limit read and dropped, and the helpers', () => {
  const huge = new XdrWriter();
  huge.uint32(0x80000000);
  throwsCode(() => readBitmap4(new XdrReader(Buffer.from(huge.finish())), lim), 'NFS4_SHORT');
  const many = new XdrWriter();
  many.uint32(lim.maxBitmapWords);
  throwsCode(() => readBitmap4(new XdrReader(Buffer.from(many.finish())), lim), 'NFS4_SHORT');
  // pynfs's GETATTR of attribute 1000: 32 words, kept to maxBitmapWords, the rest consumed.
  const w1000 = encodeWith(writeBitmap4, bitmap4(A.SIZE, 1000));
  assert.equal(w1000.length, 4 + 32 * 4);
  assert.deepEqual(decodeAll((r) => readBitmap4(r, lim), w1000), [1 << A.SIZE, 0, 0, 0, 0, 0, 0, 0]);
  let dropped = -1;
  decodeAll((r) => readBitmap4(r, lim, (b) => (dropped = b)), w1000);
  assert.equal(dropped, 1000);
  // In a fattr4's attrmask such a bit is an attribute we cannot read past.
  throwsCode(() => back(rawFattr(bitmap4(A.SIZE, 1000), Buffer.alloc(8))), 'NFS4_ATTR_NOTSUPP');
  throwsCode(() => back(rawFattr(bitmap4(A.SIZE, 1000), Buffer.alloc(8)), 'settable'), 'NFS4_ATTR_NOTSUPP');
  assert.deepEqual(decodeAll((r) => readBitmap4(r, lim), encodeWith(writeBitmap4, [])), []);
  assert.deepEqual(decodeAll((r) => readBitmap4(r, lim), encodeWith(writeBitmap4, [0, 0])), [0, 0]);

  const b = bitmap4(0, 31, 32, 63, 64, 95, 81);
  assert.deepEqual(b, [0x80000001, 0x80000001, 0x80020001]);
  assert.deepEqual(bitmap4Bits(b), [0, 31, 32, 63, 64, 81, 95]);
  assert.ok(bitmap4Has(b, 31) && bitmap4Has(b, 95) && !bitmap4Has(b, 30) && !bitmap4Has(b, 96) && !bitmap4Has(b, 1000));
  assert.deepEqual(bitmap4And(b, bitmap4(31, 40)), [0x80000000]);
  assert.deepEqual(bitmap4And(b, bitmap4(1)), []);
  assert.deepEqual(bitmap4Minus(b, bitmap4(64, 81, 95)), [0x80000001, 0x80000001]);
  assert.ok(bitmap4IsEmpty([0, 0]) && bitmap4IsEmpty([]) && !bitmap4IsEmpty([0, 1]));
  assert.deepEqual(bitmap4(), []);
  assert.throws(() => bitmap4(-1), RangeError);
  assert.throws(() => bitmap4(1.5), RangeError);
});
