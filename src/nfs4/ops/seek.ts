import { refuse } from '../../vfs/status.js';
import { DataContent4 } from '../constants.js';
import type { Seek4Args, Seek4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat, verifyIo } from './common.js';

/**
 * SEEK (RFC 7862 section 15.11): the next data or hole at or after the offset, as lseek
 * SEEK_DATA / SEEK_HOLE answers it (the end of the file is a hole); at or past the end
 * NFS4ERR_NXIO, as knfsd. sr_eof when what was found is the end of the file.
 */
export const seek: OpRow<69> = {
  async handler(a: Seek4Args, c: Compound): Promise<Seek4Res> {
    try {
      const v = await verifyIo(c, a.stateid, false);
      const b = v.export.backend;
      if (!b.seek) refuse('ENOTSUP', 'the backend cannot seek data and holes');
      if (a.what !== DataContent4.DATA && a.what !== DataContent4.HOLE) refuse('EINVAL', `seek what ${a.what}`);
      const offset = await b.seek(v.node, a.offset, a.what === DataContent4.DATA ? 'data' : 'hole');
      const size = (await b.getattr(v.node)).size;
      return { status: 0, eof: offset >= size, offset };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
