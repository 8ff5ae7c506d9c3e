import { May, type Verified } from '../../export/types.js';
import type { Node, SetAttrs } from '../../storage/types.js';
import { applyAfterCreate, checkNewName, newMode, newOwner, symlinkTarget } from '../../vfs/create.js';
import { refuse } from '../../vfs/status.js';
import { Ftype4 } from '../constants.js';
import type { Create4Args, Create4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { setAttrsOf } from '../attrs.js';
import { changeInfo, toNfs4Stat, verifyCurrent } from './common.js';

const NODES = { [Ftype4.BLK]: 'blk', [Ftype4.CHR]: 'chr', [Ftype4.SOCK]: 'sock', [Ftype4.FIFO]: 'fifo' } as const;

async function make(dir: Verified, a: Create4Args, set: SetAttrs): Promise<Node> {
  const b = dir.export.backend;
  const name = a.objname;
  const t = a.objtype;
  switch (t.type) {
    case Ftype4.DIR:
      // A new directory keeps the parent's S_ISGID (the backend adds it), as NFSv3's MKDIR.
      return b.mkdir(dir.node, name, newMode(set), newOwner(dir, set));
    case Ftype4.LNK:
      return b.symlink(dir.node, name, symlinkTarget((t as { linkdata: Buffer }).linkdata, 4096), 0o777, newOwner(dir, set));
    case Ftype4.BLK:
    case Ftype4.CHR:
    case Ftype4.SOCK:
    case Ftype4.FIFO: {
      const kind = NODES[t.type];
      // Device nodes need CAP_MKNOD: only root, as NFSv3's MKNOD.
      if ((kind === 'blk' || kind === 'chr') && dir.identity.uid !== 0) refuse('EPERM', 'only root may make device nodes');
      const dev = 'devdata' in t ? { major: t.devdata.specdata1, minor: t.devdata.specdata2 } : { major: 0, minor: 0 };
      return b.mknod(dir.node, name, kind, newMode(set, dir), dev, newOwner(dir, set));
    }
    default:
      // Regular files are made by OPEN; named-attribute types do not exist here.
      return refuse('EBADTYPE', `CREATE cannot make type ${t.type}`);
  }
}

/**
 * CREATE (RFC 8881 section 18.4): directories, symbolic links, FIFOs, sockets and device nodes,
 * under NFSv3 MKDIR/SYMLINK/MKNOD's rules (vfs/create.ts). The new object becomes the current
 * filehandle; cinfo is the directory's change before and after.
 */
export const create: OpRow<6> = {
  async handler(a: Create4Args, c: Compound): Promise<Create4Res> {
    try {
      const set = setAttrsOf(c.env, c.minor, a.createattrs);
      const dir = await verifyCurrent(c, { type: 'dir', may: May.WRITE | May.EXEC });
      checkNewName(a.objname);
      const node = await make(dir, a, set);
      await applyAfterCreate(dir, node, set, false);
      const after = await dir.export.backend.getattr(dir.node);
      c.fh = c.env.gate.compose(dir.export, node);
      c.stateid = undefined;
      return { status: 0, cinfo: changeInfo(dir.attrs, after), attrset: a.createattrs.mask };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
