/**
 * Attributes between NFSv4 and the client's fs layer, which speaks NFSv3's
 * shapes (Fattr3, Sattr3) whatever the version: fattr4 → Fattr3 for stat()
 * and friends, Sattr3 → fattr4 for SETATTR and creates, and owners.
 *
 * Owners travel as strings in v4. Numbers ("1234") are what Linux sends and
 * expects with AUTH_SYS (nfs4_disable_idmapping), what knfsd sends for such
 * clients, and what nfs-ganesha sends with Only_Numeric_Owners; so numbers
 * go out by default. With `idmapDomain` set, ids go out as "name@domain"
 * (names from this host's /etc/passwd and /etc/group; an id without a name
 * still goes as a number), and names that come back are mapped the same
 * way; a name that maps to nothing here reads as nobody (65534), as
 * nfsidmap does.
 */
import fs from 'node:fs';
import { Attr4 } from '../../nfs4/constants.js';
import { bitmap4, bitmap4From } from '../../nfs4/codec/bitmap.js';
import type { Bitmap4, Fattr4, Fattr4Values, Nfstime4, Settime4 } from '../../nfs4/types.js';
import type { Fattr3, Nfstime3, Sattr3 } from '../../nfs3/types.js';
import type { Ftype3Value } from '../../nfs3/constants.js';

/** What stat() needs, asked of every GETATTR the fs layer sends. */
export const STAT_ATTRS: Bitmap4 = bitmap4(
  Attr4.TYPE,
  Attr4.CHANGE,
  Attr4.SIZE,
  Attr4.FSID,
  Attr4.FILEID,
  Attr4.MODE,
  Attr4.NUMLINKS,
  Attr4.OWNER,
  Attr4.OWNER_GROUP,
  Attr4.RAWDEV,
  Attr4.SPACE_USED,
  Attr4.TIME_ACCESS,
  Attr4.TIME_METADATA,
  Attr4.TIME_MODIFY,
);

/** READDIR entries: the stat attributes, the handle, and rdattr_error (an entry whose attributes failed). */
export const DIR_ATTRS: Bitmap4 = bitmap4From([
  Attr4.TYPE, Attr4.CHANGE, Attr4.SIZE, Attr4.FSID, Attr4.FILEID, Attr4.MODE, Attr4.NUMLINKS, Attr4.OWNER, Attr4.OWNER_GROUP,
  Attr4.RAWDEV, Attr4.SPACE_USED, Attr4.TIME_ACCESS, Attr4.TIME_METADATA, Attr4.TIME_MODIFY, Attr4.RDATTR_ERROR, Attr4.FILEHANDLE,
]);

const NOBODY = 65534;

/** uid/gid ↔ owner strings (see the top of this file). */
export class IdMap {
  private users?: { byName: Map<string, number>; byId: Map<number, string> };
  private groups?: { byName: Map<string, number>; byId: Map<number, string> };

  constructor(readonly domain?: string) {}

  uid(owner: string | undefined): number {
    return this.toId(owner, () => (this.users ??= readDb('/etc/passwd')));
  }

  gid(group: string | undefined): number {
    return this.toId(group, () => (this.groups ??= readDb('/etc/group')));
  }

  owner(uid: number): string {
    return this.toName(uid, () => (this.users ??= readDb('/etc/passwd')));
  }

  group(gid: number): string {
    return this.toName(gid, () => (this.groups ??= readDb('/etc/group')));
  }

  private toId(s: string | undefined, db: () => { byName: Map<string, number> }): number {
    if (s === undefined) return 0;
    if (/^\d{1,10}$/.test(s)) {
      const n = Number(s);
      return n <= 0xffffffff ? n : NOBODY;
    }
    const at = s.lastIndexOf('@');
    const name = at < 0 ? s : s.slice(0, at);
    const domain = at < 0 ? undefined : s.slice(at + 1);
    if (domain !== undefined && this.domain !== undefined && domain.toLowerCase() !== this.domain.toLowerCase()) return NOBODY;
    return db().byName.get(name) ?? NOBODY;
  }

  private toName(id: number, db: () => { byId: Map<number, string> }): string {
    if (this.domain === undefined) return String(id);
    const name = db().byId.get(id);
    return name === undefined ? String(id) : `${name}@${this.domain}`;
  }
}

/** name:x:id:... lines of passwd(5) / group(5); an unreadable file is empty. */
function readDb(file: string): { byName: Map<string, number>; byId: Map<number, string> } {
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = '';
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    const id = Number(f[2]);
    if (!byName.has(f[0])) byName.set(f[0], id);
    if (!byId.has(id)) byId.set(id, f[0]);
  }
  return { byName, byId };
}

function time3(t: Nfstime4 | undefined): Nfstime3 {
  return t ? { seconds: Number(t.seconds), nseconds: t.nseconds } : { seconds: 0, nseconds: 0 };
}

function settime(t: Nfstime3 | 'server'): Settime4 {
  return t === 'server' ? 'server' : { seconds: BigInt(t.seconds), nseconds: t.nseconds };
}

/** fattr4 as the fs layer reads attributes (nf4 types 1-7 are v3's ftype3 values). */
export function toFattr3(v: Fattr4Values, ids: IdMap): Fattr3 {
  const fsid = v.fsid ? ((v.fsid.major << 32n) ^ v.fsid.minor) & 0xffffffffffffffffn : 0n;
  return {
    type: (v.type && v.type <= 7 ? v.type : 1) as Ftype3Value,
    mode: v.mode ?? 0,
    nlink: v.numlinks ?? 1,
    uid: ids.uid(v.owner),
    gid: ids.gid(v.ownerGroup),
    size: v.size ?? 0n,
    used: v.spaceUsed ?? 0n,
    rdev: { specdata1: v.rawdev?.specdata1 ?? 0, specdata2: v.rawdev?.specdata2 ?? 0 },
    fsid,
    fileid: v.fileid ?? 0n,
    atime: time3(v.timeAccess),
    mtime: time3(v.timeModify),
    ctime: time3(v.timeMetadata ?? v.timeModify),
  };
}

/** Sattr3 → the fattr4 of SETATTR (or of a create's createattrs). */
export function fromSattr3(a: Sattr3, ids: IdMap): Fattr4 {
  const values: Fattr4Values = {};
  const bits: number[] = [];
  if (a.size !== undefined) {
    values.size = a.size;
    bits.push(Attr4.SIZE);
  }
  if (a.mode !== undefined) {
    values.mode = a.mode & 0o7777;
    bits.push(Attr4.MODE);
  }
  if (a.uid !== undefined) {
    values.owner = ids.owner(a.uid);
    bits.push(Attr4.OWNER);
  }
  if (a.gid !== undefined) {
    values.ownerGroup = ids.group(a.gid);
    bits.push(Attr4.OWNER_GROUP);
  }
  if (a.atime !== undefined) {
    values.timeAccessSet = settime(a.atime);
    bits.push(Attr4.TIME_ACCESS_SET);
  }
  if (a.mtime !== undefined) {
    values.timeModifySet = settime(a.mtime);
    bits.push(Attr4.TIME_MODIFY_SET);
  }
  return { mask: bitmap4From(bits), values };
}

/** The same attributes with owners as plain numbers (a server that answered NFS4ERR_BADOWNER to names). */
export function numericOwners(a: Sattr3): Fattr4 {
  return fromSattr3(a, new IdMap(undefined));
}
