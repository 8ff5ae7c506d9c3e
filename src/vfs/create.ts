/**
 * Creating objects on a caller's behalf, for any NFS version: who owns the new object, its mode
 * (set-id rules), the attributes applied after creation, and the three ways a regular file is
 * created (UNCHECKED, GUARDED, EXCLUSIVE with a verifier kept in the file's times). Versions
 * convert their wire attributes to SetAttrs first (nfs3 sattr3, nfs4 fattr4).
 */
import { isUtf8 } from 'node:buffer';
import { May, type Verified } from '../export/types.js';
import { ownerFor, permits } from '../export/permission.js';
import { modeOnCreate } from '../export/setid.js';
import type { Attrs, Node, Owner, SetAttrs } from '../storage/types.js';
import { codeOf } from '../util/errno.js';
import { refuse } from './status.js';

/** "." and "..": names that never denote a new or removable directory entry. */
export function isDotName(name: string): boolean {
  return name === '.' || name === '..';
}

/** "." and ".." always exist, so creating them is EXIST (as knfsd answers). */
export function checkNewName(name: string): void {
  if (isDotName(name)) refuse('EEXIST', `"${name}" exists`);
}

/**
 * Owner of a new object: ownerFor (caller, or the directory's group when it
 * is setgid). Only root may choose other ids through the attributes, as knfsd only
 * applies uid/gid after create when the caller is root.
 */
export function newOwner(dir: Verified, s: SetAttrs): Owner {
  const o = ownerFor(dir.identity, dir.attrs);
  if (dir.identity.uid !== 0) return o;
  return { uid: s.uid ?? o.uid, gid: s.gid ?? o.gid };
}

/**
 * Mode of a new object: knfsd uses 0 when the client sends none. A non-directory in a
 * set-group-ID directory loses S_ISGID the caller could not set (setid.ts modeOnCreate); a
 * directory keeps it (the backend adds the parent's).
 */
export function newMode(s: SetAttrs, dir?: Verified): number {
  const mode = (s.mode ?? 0) & 0o7777;
  return dir === undefined ? mode : modeOnCreate(dir.attrs, mode, dir.identity);
}

/**
 * Attributes the create call itself could not set (times; size for regular
 * files), applied like knfsd's nfsd_create_setattr. Mode and owner were
 * given to the backend at creation.
 */
export async function applyAfterCreate(dir: Verified, node: Node, all: SetAttrs, allowSize: boolean): Promise<void> {
  const rest: SetAttrs = {};
  if (all.atime !== undefined) rest.atime = all.atime;
  if (all.mtime !== undefined) rest.mtime = all.mtime;
  if (allowSize && all.size !== undefined) rest.size = all.size;
  if (rest.atime === undefined && rest.mtime === undefined && rest.size === undefined) return;
  await dir.export.backend.setattr(node, rest);
}

/**
 * The EXCLUSIVE verifier as stored in the new file's times, like knfsd: the
 * first 4 bytes become atime seconds, the last 4 mtime seconds. The high bit
 * is cleared (knfsd does too): times past 2038 upset filesystems without
 * 64-bit timestamps and some clients, and it only costs one bit of verifier.
 */
export function verifierTimes(verf: Buffer): { atime: number; mtime: number } {
  return { atime: verf.readUInt32BE(0) & 0x7fffffff, mtime: verf.readUInt32BE(4) & 0x7fffffff };
}

/** Does this existing object hold the verifier of a retransmitted EXCLUSIVE create (and nothing written yet)? */
export function holdsVerifier(a: Attrs, verf: Buffer): boolean {
  const t = verifierTimes(verf);
  return a.type === 'reg' && a.atime.sec === t.atime && a.mtime.sec === t.mtime && a.size === 0n;
}

export async function lookupOrUndefined(dir: Verified, name: string): Promise<Node | undefined> {
  try {
    return await dir.export.backend.lookup(dir.node, name);
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** What a regular-file create did: the node, and whether this call made it. */
export interface Created {
  node: Node;
  created: boolean;
}

/** GUARDED: a new regular file, EEXIST if the name exists. */
export async function createNew(dir: Verified, name: string, s: SetAttrs): Promise<Node> {
  const node = await dir.export.backend.create(dir.node, name, {
    mode: newMode(s, dir),
    owner: newOwner(dir, s),
    exclusive: true,
  });
  await applyAfterCreate(dir, node, s, true);
  return node;
}

/** UNCHECKED: an existing regular file is reused and only its size is applied (knfsd); otherwise create. */
export async function createUnchecked(dir: Verified, name: string, s: SetAttrs): Promise<Created> {
  const b = dir.export.backend;
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await lookupOrUndefined(dir, name);
    if (existing) {
      const a = await b.getattr(existing);
      if (a.type !== 'reg') refuse('EEXIST', `"${name}" exists and is not a regular file`);
      if (s.size !== undefined) {
        // Truncating someone else's file is a write to it: the same check SETATTR would make.
        if (!permits(a, dir.identity, May.WRITE)) refuse('EACCES', `no write permission on "${name}"`);
        await b.setattr(existing, { size: s.size });
      }
      return { node: existing, created: false };
    }
    try {
      return { node: await createNew(dir, name, s), created: true };
    } catch (e) {
      // Lost a race with another creator: go round once more and reuse it.
      if (codeOf(e) !== 'EEXIST') throw e;
    }
  }
  refuse('EEXIST', `"${name}" keeps appearing and disappearing`);
}

/**
 * EXCLUSIVE: create, then store the verifier; a retransmission finds it and succeeds with the
 * same file. `s` (NFSv4.1 EXCLUSIVE4_1) gives the mode and owner of the new file; times are the
 * verifier's, and nothing else is applied (a size would make the retransmission check fail).
 */
export async function createExclusive(dir: Verified, name: string, verf: Buffer, s: SetAttrs = {}): Promise<Created> {
  const b = dir.export.backend;
  try {
    const node = await b.create(dir.node, name, { mode: newMode(s, dir), owner: newOwner(dir, s), exclusive: true });
    const t = verifierTimes(verf);
    await b.setattr(node, { atime: { sec: t.atime, nsec: 0 }, mtime: { sec: t.mtime, nsec: 0 } });
    return { node, created: true };
  } catch (e) {
    if (codeOf(e) !== 'EEXIST') throw e;
    const existing = await b.lookup(dir.node, name);
    if (holdsVerifier(await b.getattr(existing), verf)) return { node: existing, created: false };
    throw e;
  }
}

/**
 * A symlink target must be non-empty, at most `max` bytes (PATH_MAX, 4096, for both versions), and free
 * of NUL (knfsd answers INVAL, NAMETOOLONG, INVAL, as symlink(2) would; the
 * filesystem may still refuse a long one, ext4 beyond 4,095 bytes); it must
 * also be UTF-8 because the backend takes a string and a lossy conversion
 * would store a different target.
 */
export function symlinkTarget(raw: Buffer, max: number): string {
  if (raw.length === 0) refuse('EINVAL', 'empty symlink target');
  if (raw.length > max) refuse('ENAMETOOLONG', `symlink target of ${raw.length} bytes`);
  if (raw.indexOf(0) !== -1) refuse('EINVAL', 'symlink target contains NUL');
  if (!isUtf8(raw)) refuse('EINVAL', 'symlink target is not UTF-8');
  return raw.toString('utf8');
}
