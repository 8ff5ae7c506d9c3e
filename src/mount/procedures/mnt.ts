import type { ProcedureDef } from '../../rpc/program.js';
import type { MountDeps } from '../env.js';
import type { MntRes } from '../types.js';
import { decodeDirpath, encodeMntRes } from '../codec.js';
import { AUTH_NONE, AUTH_SYS } from '../constants.js';
import { toMountStat } from '../status.js';

/** A mountbody's ml_hostname is a name<255>. */
function hostOf(address: string): string {
  return address.slice(0, 255);
}

/**
 * MOUNTPROC3_MNT: mountres3 (dirpath) = 1. Resolves an export or a directory
 * inside one for this client (host match, secure port, no symlinks: the
 * registry's rules) and answers its handle, composed by the one gate, with
 * the flavors we accept. Success is recorded in the mount list for DUMP.
 */
export function mntProcedure(deps: MountDeps): ProcedureDef<string, MntRes> {
  return {
    name: 'MNT',
    decode: decodeDirpath,
    async handle(dirpath, ctx) {
      try {
        const res = await deps.exports.resolveMount(dirpath, ctx.peer);
        const fhandle = deps.gate.compose(res.export, res.node);
        deps.mountList.add(hostOf(ctx.peer.address), dirpath);
        return { status: 0, fhandle, authFlavors: [AUTH_SYS, AUTH_NONE] };
      } catch (e) {
        return { status: toMountStat(e) };
      }
    },
    encode: encodeMntRes,
    cache: 'none',
  };
}

export { hostOf };
