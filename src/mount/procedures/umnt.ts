import type { ProcedureDef } from '../../rpc/program.js';
import type { MountDeps } from '../env.js';
import { decodeDirpath } from '../codec.js';
import { hostOf } from './mnt.js';

/** MOUNTPROC3_UMNT: void (dirpath) = 3. Forget this client's mount of dirpath (no error if unknown). */
export function umntProcedure(deps: MountDeps): ProcedureDef<string, void> {
  return {
    name: 'UMNT',
    decode: decodeDirpath,
    handle(dirpath, ctx) {
      deps.mountList.remove(hostOf(ctx.peer.address), dirpath);
    },
    encode: () => undefined,
    cache: 'none',
  };
}
