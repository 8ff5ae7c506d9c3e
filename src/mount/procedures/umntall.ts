import type { ProcedureDef } from '../../rpc/program.js';
import type { MountDeps } from '../env.js';
import { hostOf } from './mnt.js';

/** MOUNTPROC3_UMNTALL: void (void) = 4. Forget every mount of the calling client. */
export function umntallProcedure(deps: MountDeps): ProcedureDef<void, void> {
  return {
    name: 'UMNTALL',
    decode: () => undefined,
    handle(_args, ctx) {
      deps.mountList.removeHost(hostOf(ctx.peer.address));
    },
    encode: () => undefined,
    cache: 'none',
  };
}
