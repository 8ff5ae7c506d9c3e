/**
 * The set-id rules (src/export/setid.ts) against what the Linux 6.x VFS does
 * for an unprivileged caller (fs/attr.c setattr_should_drop_suidgid,
 * setattr_should_drop_sgid, setattr_prepare; fs/open.c chown_common; fs/inode.c
 * mode_strip_sgid) and knfsd's nfsd_setattr. Root (after squashing) has
 * CAP_FSETID, as knfsd grants it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { modeBeforeWrite, modeOnCreate, setidForSetattr } from '../../src/export/setid.js';
import type { Attrs, FileType } from '../../src/storage/types.js';
import type { Identity } from '../../src/export/types.js';

const t0 = { sec: 0, nsec: 0 };
function attrs(mode: number, uid = 1000, gid = 1000, type: FileType = 'reg'): Attrs {
  return { type, mode, nlink: 1, uid, gid, size: 0n, used: 0n, rdev: { major: 0, minor: 0 }, fsid: 1n, fileid: 2n, atime: t0, mtime: t0, ctime: t0 };
}
const owner: Identity = { uid: 1000, gid: 1000, gids: [] };
const other: Identity = { uid: 1001, gid: 1001, gids: [] };
const member: Identity = { uid: 1001, gid: 1001, gids: [1000] };
const root: Identity = { uid: 0, gid: 0, gids: [] };
const oct = (m: number | undefined) => (m === undefined ? 'unchanged' : m.toString(8));

describe('set-id rules: write and truncate (file_remove_privs)', () => {
  const cases: [number, Identity, string, number | undefined][] = [
    [0o4777, other, 'non-owner', 0o777],
    [0o2777, other, 'non-owner', 0o777],
    [0o6777, other, 'non-owner', 0o777],
    [0o4755, owner, 'the owner too (no CAP_FSETID)', 0o755],
    [0o6755, member, 'a member of the group', 0o755],
    [0o2745, member, 'sgid without group-execute, member: a locking mark, kept', undefined],
    [0o2745, other, 'sgid without group-execute, no member: dropped (6.x)', 0o745],
    [0o6777, root, 'root (CAP_FSETID)', undefined],
    [0o0777, other, 'no set-id bits', undefined],
  ];
  for (const [mode, id, who, want] of cases) {
    it(`${mode.toString(8)} written by ${who} → ${oct(want)}`, () => {
      assert.equal(oct(modeBeforeWrite(attrs(mode), id)), oct(want));
    });
  }
  it('only regular files lose them', () => {
    assert.equal(modeBeforeWrite(attrs(0o4777, 1000, 1000, 'dir'), other), undefined);
  });
  it('a SETATTR of the size by a non-root caller drops them as truncate(2) does', () => {
    assert.deepEqual(setidForSetattr(attrs(0o6777), { size: 0n }, other), { size: 0n, mode: 0o777 });
    assert.deepEqual(setidForSetattr(attrs(0o6777), { size: 0n }, root), { size: 0n });
  });
});

describe('set-id rules: chmod (setattr_prepare)', () => {
  it('the owner who is not in the file\'s group cannot set S_ISGID', () => {
    const a = attrs(0o644, 1000, 50);
    assert.deepEqual(setidForSetattr(a, { mode: 0o2755 }, owner), { mode: 0o755 });
  });
  it('a member of the group, or root, can', () => {
    assert.deepEqual(setidForSetattr(attrs(0o644, 1000, 1000), { mode: 0o2755 }, owner), { mode: 0o2755 });
    assert.deepEqual(setidForSetattr(attrs(0o644, 1000, 50), { mode: 0o2755 }, root), { mode: 0o2755 });
  });
  it('the group checked is the new one when the same SETATTR changes it', () => {
    const a = attrs(0o755, 1000, 50, 'dir');
    assert.deepEqual(setidForSetattr(a, { mode: 0o2755, gid: 1000 }, owner).mode, 0o2755);
  });
  it('S_ISUID is the owner\'s to set', () => {
    assert.deepEqual(setidForSetattr(attrs(0o644), { mode: 0o4755 }, owner), { mode: 0o4755 });
  });
});

describe('set-id rules: chown (chown_common, nfsd_setattr)', () => {
  it('S_ISUID goes whoever changes the owner, root included', () => {
    assert.deepEqual(setidForSetattr(attrs(0o4755), { uid: 1001 }, root), { uid: 1001, mode: 0o755 });
  });
  it('S_ISGID with group-execute goes too; without it, only for a caller outside the group', () => {
    assert.deepEqual(setidForSetattr(attrs(0o2755), { gid: 1000 }, owner).mode, 0o755);
    assert.equal(setidForSetattr(attrs(0o2745), { gid: 1000 }, owner).mode, undefined);
    assert.equal(setidForSetattr(attrs(0o2745, 1000, 50), { gid: 1000 }, owner).mode, 0o745);
  });
  it('a mode sent with the chown loses the bits as knfsd clears them', () => {
    assert.deepEqual(setidForSetattr(attrs(0o644), { uid: 1001, mode: 0o6755 }, root), { uid: 1001, mode: 0o755 });
    assert.deepEqual(setidForSetattr(attrs(0o644), { uid: 1001, mode: 0o6745 }, root), { uid: 1001, mode: 0o2745 });
  });
  it('directories keep theirs (their S_ISGID is inheritance, not privilege)', () => {
    assert.deepEqual(setidForSetattr(attrs(0o2755, 1000, 1000, 'dir'), { gid: 1001 }, root), { gid: 1001 });
  });
});

describe('set-id rules: create in a set-group-ID directory (mode_strip_sgid)', () => {
  const sgidDir = attrs(0o2775, 0, 50, 'dir');
  it('a caller outside the directory\'s group loses S_ISGID | S_IXGRP', () => {
    assert.equal(modeOnCreate(sgidDir, 0o2755, owner), 0o755);
  });
  it('a member, or root, keeps it; so does anyone in a plain directory', () => {
    assert.equal(modeOnCreate(sgidDir, 0o2755, { uid: 1000, gid: 1000, gids: [50] }), 0o2755);
    assert.equal(modeOnCreate(sgidDir, 0o2755, root), 0o2755);
    assert.equal(modeOnCreate(attrs(0o775, 0, 50, 'dir'), 0o2755, owner), 0o2755);
  });
  it('S_ISGID without group-execute is left alone', () => {
    assert.equal(modeOnCreate(sgidDir, 0o2745, owner), 0o2745);
  });
});
