/**
 * The compact (version 2) file handle and the POSIX backend's version-2 node
 * keys: 24-byte handles, still MAC'd over every byte, version-1 handles and
 * keys from before the change still accepted, and no confusion between the
 * two formats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeFh, encodeFhCompact, decodeFh, FH_MAX } from '../../src/export/fh.js';
import { ExportTable } from '../../src/export/table.js';
import type { ServerIdentity } from '../../src/export/types.js';
import { PosixBackend } from '../../src/storage/index.js';
import { decodeKey, genOf, rootTag } from '../../src/storage/posix-util.js';
import { rejectsHandle, rejectsTampered } from '../helpers/fh.js';

const secret = randomBytes(32);
const SERVER: ServerIdentity = { privileged: true, uid: 0, gid: 0, gids: [] };
const OWNER = { uid: 0, gid: 0 };

test('compact handle: round trip for every key length 0..32, 13 + n bytes', () => {
  for (let n = 0; n <= 32; n++) {
    const key = randomBytes(n);
    const fh = encodeFhCompact(secret, 0xdeadbeef, key);
    assert.equal(fh.length, 13 + n);
    assert.ok(fh.length <= 64 && fh.length <= FH_MAX);
    assert.equal(fh[0], 2);
    assert.deepEqual(decodeFh(secret, fh), { exportId: 0xdeadbeef, nodeKey: key });
  }
  assert.throws(() => encodeFhCompact(secret, 1, Buffer.alloc(33)), RangeError);
  assert.throws(() => encodeFhCompact(secret, 0, Buffer.alloc(3)), RangeError);
});

test('compact handle: every bit flip, truncation and extension is rejected', () => {
  for (const key of [Buffer.alloc(0), Buffer.from('k'), randomBytes(11), randomBytes(32)]) {
    const fh = encodeFhCompact(secret, 42, key);
    rejectsTampered(secret, fh);
    rejectsHandle(randomBytes(32), fh);
  }
  for (let i = 0; i < 2000; i++) {
    const h = randomBytes(13 + (i % 33));
    h[0] = 2;
    rejectsHandle(secret, h);
  }
});

test('version 1 handles still decode; the two versions are never confused', () => {
  const key = randomBytes(21);
  const v1 = encodeFh(secret, 77, key);
  const v2 = encodeFhCompact(secret, 77, key);
  assert.deepEqual(decodeFh(secret, v1), { exportId: 77, nodeKey: key });
  assert.deepEqual(decodeFh(secret, v2), { exportId: 77, nodeKey: key });
  // Same MAC, other version byte (and the other layout): refused.
  const asV1 = Buffer.from(v2);
  asV1[0] = 1;
  rejectsHandle(secret, asV1);
  const asV2 = Buffer.from(v1);
  asV2[0] = 2;
  rejectsHandle(secret, asV2);
});

test('POSIX backend: 11-byte keys, 24-byte handles, version-1 keys still resolve', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfs-fh-compact-'));
  const root = path.join(tmp, 'export');
  fs.mkdirSync(root);
  const b = new PosixBackend(root);
  try {
    const r = await b.root();
    const f = await b.create(r, 'f', { mode: 0o644, owner: OWNER, exclusive: true });
    assert.equal(f.key.length, 11);
    assert.equal(r.key.length, 11);

    const table = new ExportTable({ secret, server: SERVER });
    const exp = await table.add({ path: '/x', clients: [{ host: '*', options: { readOnly: false, secure: false, squash: 'none', anonuid: 65534, anongid: 65534, sync: true } }] } as never, b);
    const fh = table.compose(exp, f);
    assert.equal(fh.length, 24, 'as short as knfsd and ganesha handles');
    assert.equal(table.compose(exp, f), fh, 'memoised');
    assert.equal(decodeFh(secret, fh).nodeKey.length, 11);

    // A version-1 key as minted before: [1][tag u32][ino u64][birth ns u64].
    const st = fs.lstatSync(path.join(root, 'f'), { bigint: true });
    const rst = fs.lstatSync(root, { bigint: true });
    // As the backend decides: birth times count unless fake (/proc has one) or on overlayfs.
    const usable = fs.lstatSync('/proc/self', { bigint: true }).birthtimeNs === 0n && fs.statfsSync(root).type !== 0x794c7630;
    const birth = (s: fs.BigIntStats) => (usable && s.birthtimeNs > 0n ? s.birthtimeNs : 0n);
    const tag = rootTag(rst.ino, birth(rst));
    const v1 = Buffer.alloc(21);
    v1[0] = 1;
    v1.writeUInt32BE(tag, 1);
    v1.writeBigUInt64BE(st.ino, 5);
    v1.writeBigUInt64BE(birth(st), 13);
    const d = decodeKey(v1, tag);
    assert.ok(d !== undefined);
    assert.equal(d.ino, st.ino);
    assert.equal(d.gen, genOf(birth(st)));
    const again = await b.fromKey(v1);
    assert.equal(again.fileid, f.fileid);
    assert.ok(again.key.equals(f.key), 'an old key resolves to the node, with its new key');
    // Another generation in an old key is stale, as with a new key.
    const forged = Buffer.from(v1);
    forged[20] ^= 1;
    if (birth(st) !== 0n) await assert.rejects(b.fromKey(forged), (e: unknown) => (e as { code?: string }).code === 'ESTALE');
  } finally {
    await b.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('generation mix: 0 stays 0, births in one 4.3 s window never collide', () => {
  assert.equal(genOf(0n), 0n);
  const base = 1_764_000_000_123_456_789n & ~0xffffffffn;
  const seen = new Set<bigint>();
  for (let i = 0n; i < 20000n; i++) seen.add(genOf(base + i * 214_743n));
  assert.equal(seen.size, 20000);
  for (const g of seen) assert.ok(g >= 0n && g <= 0xffffffffn);
});
