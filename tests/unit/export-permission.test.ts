import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permits, modeAllows, accessMask, mayDelete, ownerFor, Access3, ACCESS3_ALL } from '../../src/export/permission.js';
import { squash } from '../../src/export/squash.js';
import { defaultExportOptions } from '../../src/export/exports-file.js';
import { May, type Identity, type ServerIdentity } from '../../src/export/types.js';
import type { Attrs, FileType } from '../../src/storage/types.js';

function attrs(type: FileType, mode: number, uid = 1000, gid = 100): Attrs {
  const t = { sec: 0, nsec: 0 };
  return { type, mode, nlink: 1, uid, gid, size: 0n, used: 0n, rdev: { major: 0, minor: 0 }, fsid: 1n, fileid: 2n, atime: t, mtime: t, ctime: t };
}
const id = (uid: number, gid: number, gids: number[] = []): Identity => ({ uid, gid, gids });
const owner = id(1000, 100);
const groupie = id(2000, 100);
const suppl = id(2000, 500, [7, 100]);
const other = id(3000, 300, [301]);
const root = id(0, 0);

test('exactly one mode class applies: owner, else group (primary or supplementary), else other', () => {
  const f = attrs('reg', 0o604); // owner rw, group none, other r
  assert.equal(modeAllows(f, owner, May.READ | May.WRITE), true);
  assert.equal(modeAllows(f, groupie, May.READ), false); // group class denies even though other allows
  assert.equal(modeAllows(f, suppl, May.READ), false);
  assert.equal(modeAllows(f, other, May.READ), true);
  assert.equal(modeAllows(f, other, May.WRITE), false);
  const g = attrs('reg', 0o070);
  assert.equal(modeAllows(g, owner, May.READ), false); // owner class denies though group allows
  assert.equal(modeAllows(g, groupie, May.READ | May.WRITE | May.EXEC), true);
  assert.equal(modeAllows(g, suppl, May.READ | May.WRITE | May.EXEC), true);
  assert.equal(modeAllows(g, other, May.READ), false);
});

test('root reads/writes anything; executes only with some x bit, searches any dir', () => {
  assert.equal(permits(attrs('reg', 0o000), root, May.READ | May.WRITE), true);
  assert.equal(permits(attrs('reg', 0o000), root, May.EXEC), false);
  assert.equal(permits(attrs('reg', 0o001), root, May.EXEC), true);
  assert.equal(permits(attrs('dir', 0o000), root, May.LOOKUP | May.WRITE), true);
  assert.equal(permits(attrs('reg', 0o000), root, May.OWNER), true);
});

test('LOOKUP needs x on the directory; TRUNC needs w', () => {
  const d = attrs('dir', 0o750);
  assert.equal(permits(d, groupie, May.LOOKUP), true);
  assert.equal(permits(d, groupie, May.WRITE), false);
  assert.equal(permits(d, other, May.LOOKUP), false);
  assert.equal(permits(attrs('reg', 0o644), groupie, May.TRUNC), false);
  assert.equal(permits(attrs('reg', 0o664), groupie, May.TRUNC), true);
});

test('May.OWNER: only the owner or root', () => {
  const f = attrs('reg', 0o777);
  assert.equal(permits(f, owner, May.OWNER), true);
  assert.equal(permits(f, root, May.OWNER), true);
  assert.equal(permits(f, groupie, May.OWNER), false);
  assert.equal(permits(f, groupie, May.NONE), true);
});

test('owner override: the owner may read/write their own regular file whatever the mode', () => {
  const f = attrs('reg', 0o444); // created 0444, then written
  assert.equal(permits(f, owner, May.WRITE), true);
  assert.equal(permits(f, owner, May.TRUNC), true);
  assert.equal(permits(attrs('reg', 0o000), owner, May.READ | May.WRITE), true);
  assert.equal(permits(f, groupie, May.WRITE), false); // not for others
  assert.equal(permits(attrs('reg', 0o000), owner, May.EXEC), false); // not for exec
  assert.equal(permits(attrs('dir', 0o500), owner, May.WRITE), false); // not for directories
  // ACCESS tells the truth (no override).
  assert.equal(accessMask(f, owner, false, Access3.MODIFY), 0);
});

test('read-if-exec: a 0711 binary may be READ by others (knfsd), not reported by ACCESS', () => {
  const f = attrs('reg', 0o711);
  assert.equal(permits(f, other, May.READ), true);
  assert.equal(permits(f, other, May.WRITE), false);
  assert.equal(accessMask(f, other, false, Access3.READ | Access3.EXECUTE), Access3.EXECUTE);
});

test('ACCESS3 masks', () => {
  const all = ACCESS3_ALL;
  const f = attrs('reg', 0o754);
  assert.equal(accessMask(f, owner, false, all), Access3.READ | Access3.MODIFY | Access3.EXTEND | Access3.EXECUTE);
  assert.equal(accessMask(f, groupie, false, all), Access3.READ | Access3.EXECUTE);
  assert.equal(accessMask(f, other, false, all), Access3.READ);
  const d = attrs('dir', 0o775);
  assert.equal(accessMask(d, groupie, false, all), Access3.READ | Access3.LOOKUP | Access3.MODIFY | Access3.EXTEND | Access3.DELETE);
  assert.equal(accessMask(d, other, false, all), Access3.READ | Access3.LOOKUP);
  // Write without search on a directory modifies nothing.
  assert.equal(accessMask(attrs('dir', 0o660), groupie, false, all), Access3.READ);
  // Only what was asked.
  assert.equal(accessMask(d, groupie, false, Access3.LOOKUP | Access3.EXECUTE), Access3.LOOKUP);
  // Read-only export: no MODIFY/EXTEND/DELETE, even for root.
  assert.equal(accessMask(d, root, true, all), Access3.READ | Access3.LOOKUP);
  assert.equal(accessMask(f, owner, true, all), Access3.READ | Access3.EXECUTE);
  assert.equal(accessMask(d, root, false, all), Access3.READ | Access3.LOOKUP | Access3.MODIFY | Access3.EXTEND | Access3.DELETE);
  // Root and EXECUTE: only with an x bit.
  assert.equal(accessMask(attrs('reg', 0o644), root, false, all), Access3.READ | Access3.MODIFY | Access3.EXTEND);
  // Symlinks and others are non-directories.
  assert.equal(accessMask(attrs('lnk', 0o777), other, false, all) & (Access3.LOOKUP | Access3.DELETE), 0);
});

test('sticky directories: owner of file, owner of dir, or root', () => {
  const tmp = attrs('dir', 0o1777, 0, 0);
  const victim = attrs('reg', 0o644, 2000, 100);
  assert.equal(mayDelete(tmp, victim, groupie), true); // owns the file
  assert.equal(mayDelete(tmp, victim, other), false);
  assert.equal(mayDelete(tmp, victim, root), true);
  const ownedTmp = attrs('dir', 0o1777, 3000, 300);
  assert.equal(mayDelete(ownedTmp, victim, other), true); // owns the dir
  // Non-sticky: write+search on the directory is enough.
  assert.equal(mayDelete(attrs('dir', 0o777, 0, 0), victim, other), true);
  assert.equal(mayDelete(attrs('dir', 0o755, 0, 0), victim, other), false);
  assert.equal(mayDelete(attrs('dir', 0o766, 0, 0), victim, other), false); // w without x
  assert.equal(mayDelete(attrs('reg', 0o777), victim, other), false);
});

test('ownerFor: caller uid; dir gid when setgid, else caller gid', () => {
  assert.deepEqual(ownerFor(suppl, attrs('dir', 0o2775, 0, 42)), { uid: 2000, gid: 42 });
  assert.deepEqual(ownerFor(suppl, attrs('dir', 0o775, 0, 42)), { uid: 2000, gid: 500 });
});

test('squash: AUTH_NONE, all_squash, root_squash (incl. supplementary 0), no_root_squash, unprivileged server', () => {
  const o = { ...defaultExportOptions(), anonuid: 99, anongid: 98 };
  const srv: ServerIdentity = { privileged: true, uid: 0, gid: 0, gids: [] };
  const rootCred = { flavor: 'sys' as const, stamp: 0, machine: 'm', uid: 0, gid: 0, gids: [0, 5] };
  const user = { flavor: 'sys' as const, stamp: 0, machine: 'm', uid: 1000, gid: 0, gids: [10, 0] };
  assert.deepEqual(squash({ flavor: 'none' }, o, srv), { uid: 99, gid: 98, gids: [] });
  assert.deepEqual(squash(rootCred, o, srv), { uid: 99, gid: 98, gids: [98, 5] });
  assert.deepEqual(squash(user, o, srv), { uid: 1000, gid: 98, gids: [10, 98] }); // gid 0 squashed for non-root too (Linux)
  assert.deepEqual(squash(rootCred, { ...o, squash: 'none' }, srv), { uid: 0, gid: 0, gids: [0, 5] });
  assert.deepEqual(squash(user, { ...o, squash: 'all' }, srv), { uid: 99, gid: 98, gids: [] });
  assert.deepEqual(squash({ ...user, uid: 0xffffffff }, { ...o, squash: 'none' }, srv).uid, 99);
  const unpriv: ServerIdentity = { privileged: false, uid: 1234, gid: 1235, gids: [1235, 27] };
  for (const c of [rootCred, user, { flavor: 'none' as const }]) {
    assert.deepEqual(squash(c, { ...o, squash: 'none' }, unpriv), { uid: 1234, gid: 1235, gids: [1235, 27] });
  }
});
