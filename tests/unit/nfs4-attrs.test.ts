/**
 * NFSv4 attributes (src/nfs4/attrs.ts): the plan READDIR writes entries with gives byte for byte
 * what fattr4Of + the codec give; owners numeric or through an id mapper; settable attributes back
 * to SetAttrs with BADOWNER / ATTRNOTSUPP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XdrWriter } from '../../src/xdr/index.js';
import { Attr4 as A } from '../../src/nfs4/constants.js';
import { bitmap4, bitmap4Minus } from '../../src/nfs4/codec/bitmap.js';
import { encodeFattr4 } from '../../src/nfs4/codec/fattr4.js';
import { SUPPORTED, WRITE_ONLY, fattr4Of, fattr4Plan, setAttrsOf, writeFattr4, type AttrTarget } from '../../src/nfs4/attrs.js';
import { IdMapper } from '../../src/nfs4/idmap.js';
import type { Nfs4Env } from '../../src/nfs4/env.js';
import type { Attrs } from '../../src/storage/types.js';
import type { Export } from '../../src/export/types.js';

const env = {
  state: { leaseSeconds: 90 },
  idmap: new IdMapper(),
  gate: { compose: () => Buffer.from('0123456789abcdef0123') },
  rtmax: 1 << 20,
  wtmax: 1 << 20,
} as unknown as Nfs4Env;

const attrs: Attrs = {
  type: 'reg', mode: 0o4755, nlink: 3, uid: 1000, gid: 1001, size: 12345n, used: 16384n, rdev: { major: 8, minor: 1 },
  fsid: 9n, fileid: 4242n, atime: { sec: 1700000000, nsec: 5 }, mtime: { sec: 1700000001, nsec: 6 }, ctime: { sec: 1700000002, nsec: 7 },
};
const target: AttrTarget = {
  exp: { id: 77, rootKey: Buffer.from('root'), backend: { getxattr: async () => Buffer.alloc(0) } } as unknown as Export,
  node: { key: Buffer.from('node'), fileid: 4242n },
  attrs,
};

test('the READDIR plan writes what fattr4Of and encodeFattr4 write, for every attribute it can', async () => {
  const statfs = bitmap4(A.FILES_AVAIL, A.FILES_FREE, A.FILES_TOTAL, A.SPACE_AVAIL, A.SPACE_FREE, A.SPACE_TOTAL);
  // Times before 1970 and past 2^32 s, an out-of-range nsec, a device: the direct writers' edges.
  const odd: AttrTarget = {
    ...target,
    attrs: { ...attrs, type: 'chr', rdev: { major: 0xfffffff0, minor: 3 }, atime: { sec: -5, nsec: 7 }, mtime: { sec: 2 ** 40 + 3, nsec: 1_500_000_000 }, ctime: { sec: -(2 ** 33), nsec: -1 } },
  };
  for (const minor of [1, 2]) {
    for (const t of [target, odd]) {
      const ask = bitmap4Minus(bitmap4Minus(SUPPORTED[minor], WRITE_ONLY), statfs);
      const plan = fattr4Plan(minor, ask)!;
      assert.ok(plan, `a plan for minor ${minor}`);
      const a = new XdrWriter(256);
      writeFattr4(a, plan, env, minor, t);
      const b = new XdrWriter(256);
      encodeFattr4(b, await fattr4Of(env, minor, t, ask));
      assert.deepEqual(a.finish(), b.finish(), `minor ${minor}, ${t.attrs.type}`);
    }
  }
  assert.equal(fattr4Plan(1, statfs), undefined, 'statfs attributes are not planned');
  const v = (await fattr4Of(env, 1, target, bitmap4(A.OWNER, A.OWNER_GROUP, A.CHANGE, A.NUMLINKS))).values;
  assert.deepEqual([v.owner, v.ownerGroup, v.change, v.numlinks], ['1000', '1001', (1700000002n << 30n) + 7n, 3]);
});

test('owners: numeric by default; user@domain through passwd and group with --idmap-domain; BADOWNER otherwise', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-idmap-'));
  fs.writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'group'), 'root:x:0:\nstaff:x:1001:alice\n');
  try {
    const plain = new IdMapper();
    assert.equal(plain.owner(1000), '1000');
    assert.equal(plain.uidOf('1000'), 1000);
    assert.equal(plain.uidOf('alice@example.com'), undefined);
    const named = new IdMapper({ domain: 'Example.COM', passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group') });
    assert.equal(named.owner(1000), 'alice@example.com');
    assert.equal(named.owner(4321), '4321', 'no name: the number');
    assert.equal(named.group(1001), 'staff@example.com');
    assert.equal(named.uidOf('alice@example.com'), 1000);
    assert.equal(named.gidOf('staff@EXAMPLE.com'), 1001);
    assert.equal(named.uidOf('alice@other.org'), undefined);
    assert.equal(named.uidOf('bob@example.com'), undefined);
    assert.equal(named.uidOf('77'), 77, 'numbers are always accepted');
    const envNamed = { ...env, idmap: named } as Nfs4Env;
    assert.throws(() => setAttrsOf(envNamed, 1, { mask: bitmap4(A.OWNER), values: { owner: 'bob@example.com' } }), { code: 'EBADOWNER' });
    assert.deepEqual(setAttrsOf(envNamed, 1, { mask: bitmap4(A.OWNER, A.MODE), values: { owner: 'alice@example.com', mode: 0o640 } }), { uid: 1000, mode: 0o640 });
    assert.throws(() => setAttrsOf(env, 1, { mask: bitmap4(A.MODE_UMASK), values: { modeUmask: { mode: 0o777, umask: 0o22 } } }), { code: 'EATTRNOTSUPP' }, 'mode_umask is 4.2');
    assert.deepEqual(setAttrsOf(env, 2, { mask: bitmap4(A.MODE_UMASK), values: { modeUmask: { mode: 0o777, umask: 0o22 } } }), { mode: 0o755 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
