/**
 * The NFSv4 namespace: the pseudo-filesystem above the exports, junctions into exports (and into an
 * export nested in another), fsid changes and mounted_on_fileid, LOOKUPP back out, what a client
 * may see (exports(5) host rules), and the pseudo-filesystem being read-only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Attr4 as A, Nfs4Op as P, Nfs4Stat } from '../../src/nfs4/constants.js';
import { bitmap4 } from '../../src/nfs4/codec/bitmap.js';
import type { Nfs4ArgOp } from '../../src/nfs4/types.js';
import { V4Session, ok, resOf } from '../helpers/nfs4-test-client.js';
import { withServer } from '../helpers/nfs4-server.js';

const ATTRS = bitmap4(A.TYPE, A.FSID, A.FILEID, A.MOUNTED_ON_FILEID);
const readdir = (fh: Buffer): Nfs4ArgOp[] => [
  { op: P.PUTFH, args: { object: fh } },
  { op: P.READDIR, args: { cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 4096, maxcount: 16384, attrRequest: ATTRS } },
];

test('pseudo-root → exports: junctions, fsids, mounted_on_fileid, nested exports, LOOKUPP, host rules, read-only', async () => {
  await withServer(async ({ exp, conn }) => {
    const s = await V4Session.create(conn, 1);
    const parentPath = exp; // every component of it is a pseudo directory
    const base = await s.lookup(parentPath);
    // The pseudo directory lists only the export this client may use.
    const list = ok(await s.run(readdir(base)), P.READDIR);
    assert.deepEqual(list.entries.map((e) => e.name), ['pub']);
    assert.equal(resOf(await s.run([{ op: P.PUTFH, args: { object: base } }, { op: P.LOOKUP, args: { objname: 'hidden' } }]), P.LOOKUP).status, Nfs4Stat.NOENT);
    // Crossing into pub: another fsid; its root's mounted_on_fileid is the pseudo directory's fileid.
    const ga = async (fh: Buffer) => ok(await s.run([{ op: P.PUTFH, args: { object: fh } }, { op: P.GETATTR, args: { attrRequest: ATTRS } }]), P.GETATTR).attrs.values;
    const pub = await s.lookup(path.join(parentPath, 'pub'));
    const [pseudoAttrs, pubAttrs] = [await ga(base), await ga(pub)];
    assert.notDeepEqual(pseudoAttrs.fsid, pubAttrs.fsid);
    const entry = list.entries[0].attrs.values;
    assert.deepEqual(entry.fsid, pubAttrs.fsid, 'READDIR shows the export root');
    assert.notEqual(pubAttrs.mountedOnFileid, pubAttrs.fileid);
    assert.equal(entry.mountedOnFileid, pubAttrs.mountedOnFileid);
    // A nested export is crossed into too.
    const inner = await s.lookup(path.join(parentPath, 'pub/dir/inner'));
    const innerAttrs = await ga(inner);
    assert.notDeepEqual(innerAttrs.fsid, pubAttrs.fsid);
    // LOOKUPP out of the nested export lands in pub's "dir"; out of pub in the pseudo directory.
    const up = ok(await s.run([{ op: P.PUTFH, args: { object: inner } }, { op: P.LOOKUPP, args: undefined }, { op: P.GETFH, args: undefined }]), P.GETFH).object;
    assert.deepEqual((await ga(up)).fsid, pubAttrs.fsid);
    const out = ok(await s.run([{ op: P.PUTFH, args: { object: pub } }, { op: P.LOOKUPP, args: undefined }, { op: P.GETFH, args: undefined }]), P.GETFH).object;
    assert.deepEqual(out, base);
    // The root has no parent; the pseudo-filesystem is read-only.
    assert.equal(resOf(await s.run([{ op: P.PUTROOTFH, args: undefined }, { op: P.LOOKUPP, args: undefined }]), P.LOOKUPP).status, Nfs4Stat.NOENT);
    const mk = await s.run([{ op: P.PUTFH, args: { object: base } }, { op: P.CREATE, args: { objtype: { type: 2 }, objname: 'x', createattrs: { mask: [], values: {} } } }]);
    assert.equal(resOf(mk, P.CREATE).status, Nfs4Stat.ROFS);
    // The same handles serve v3: the export root handle is MOUNT's.
    assert.equal((await ga(pub)).type, 2);
  }, {
    // exp/pub (for us), exp/pub/dir/inner (nested, for us), exp/hidden (for another host only).
    prepare: (exp) => {
      for (const d of ['pub/dir/inner', 'hidden']) fs.mkdirSync(path.join(exp, d), { recursive: true });
      fs.writeFileSync(path.join(exp, 'pub/dir/inner/f'), 'inner');
    },
    exportsText: (exp) => [
      `${exp}/pub 127.0.0.1(rw,insecure,no_root_squash)`,
      `${exp}/pub/dir/inner 127.0.0.1(ro,insecure)`,
      `${exp}/hidden 10.99.99.99(rw,insecure)`,
      '',
    ].join('\n'),
  });
});
