import { May } from '../../export/types.js';
import type { Backend } from '../../storage/types.js';
import { refuse } from '../../vfs/status.js';
import { Nfs4Stat, SetXattr4 } from '../constants.js';
import type {
  Getxattr4Args, Getxattr4Res, Listxattrs4Args, Listxattrs4Res, Removexattr4Args, Removexattr4Res, Setxattr4Args,
  Setxattr4Res,
} from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { changeInfo, toNfs4Stat, verifyCurrent } from './common.js';

/**
 * Extended attributes (RFC 8276): the "user." namespace of the object, as knfsd maps it — the
 * names on the wire have no prefix. A backend without extended attributes is NFS4ERR_NOTSUPP
 * (and says xattr_support false). Reading needs read permission, changing write permission.
 */
const PREFIX = 'user.';
/** The largest value Linux stores (XATTR_SIZE_MAX). */
const XATTR_MAX = 65536;

type XattrBackend = Required<Pick<Backend, 'getxattr' | 'setxattr' | 'listxattr' | 'removexattr'>> & Backend;

function xattrs(b: Backend): XattrBackend {
  if (!b.getxattr || !b.setxattr || !b.listxattr || !b.removexattr) refuse('ENOTSUP', 'no extended attributes here');
  return b as XattrBackend;
}

/** GETXATTR (RFC 8276 section 8.4.2): the value; a missing one is NFS4ERR_NOXATTR. */
export const getxattr: OpRow<72> = {
  async handler(a: Getxattr4Args, c: Compound): Promise<Getxattr4Res> {
    try {
      const v = await verifyCurrent(c, { may: May.READ });
      const value = await xattrs(v.export.backend).getxattr(v.node, PREFIX + a.name);
      if (value.length + 64 > c.room) return { status: Nfs4Stat.XATTR2BIG };
      return { status: 0, value };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};

/** SETXATTR (8.4.3): CREATE fails EXIST on one present, REPLACE NOXATTR on one absent; over 64 KiB XATTR2BIG. */
export const setxattr: OpRow<73> = {
  async handler(a: Setxattr4Args, c: Compound): Promise<Setxattr4Res> {
    if (a.option !== SetXattr4.EITHER && a.option !== SetXattr4.CREATE && a.option !== SetXattr4.REPLACE) return { status: Nfs4Stat.INVAL };
    if (a.value.length > XATTR_MAX) return { status: Nfs4Stat.XATTR2BIG };
    try {
      const v = await verifyCurrent(c, { may: May.WRITE });
      const b = xattrs(v.export.backend);
      const how = a.option === SetXattr4.CREATE ? 'create' : a.option === SetXattr4.REPLACE ? 'replace' : 'either';
      await b.setxattr(v.node, PREFIX + a.key, Buffer.from(a.value), how);
      return { status: 0, cinfo: changeInfo(v.attrs, await b.getattr(v.node)) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};

/**
 * LISTXATTRS (8.4.4): names after `cookie` (the count of names already listed, in name order),
 * within `maxcount` bytes of names (NFS4ERR_TOOSMALL when not even one fits).
 */
export const listxattrs: OpRow<74> = {
  async handler(a: Listxattrs4Args, c: Compound): Promise<Listxattrs4Res> {
    try {
      const v = await verifyCurrent(c, { may: May.READ });
      const all = (await xattrs(v.export.backend).listxattr(v.node)).filter((n) => n.startsWith(PREFIX)).map((n) => n.slice(PREFIX.length)).sort();
      if (a.cookie > BigInt(all.length)) return { status: Nfs4Stat.BAD_COOKIE };
      const max = Math.min(a.maxcount, c.room - 64);
      const names: string[] = [];
      let bytes = 4 + 8 + 4; // count, cookie, eof
      let i = Number(a.cookie);
      for (; i < all.length; i++) {
        const need = 4 + ((Buffer.byteLength(all[i]) + 3) & ~3);
        if (bytes + need > max) break;
        bytes += need;
        names.push(all[i]);
      }
      if (names.length === 0 && i < all.length) return { status: Nfs4Stat.TOOSMALL };
      return { status: 0, cookie: BigInt(i), names, eof: i >= all.length };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};

/** REMOVEXATTR (8.4.5): a missing one is NFS4ERR_NOXATTR. */
export const removexattr: OpRow<75> = {
  async handler(a: Removexattr4Args, c: Compound): Promise<Removexattr4Res> {
    try {
      const v = await verifyCurrent(c, { may: May.WRITE });
      const b = xattrs(v.export.backend);
      await b.removexattr(v.node, PREFIX + a.name);
      return { status: 0, cinfo: changeInfo(v.attrs, await b.getattr(v.node)) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
