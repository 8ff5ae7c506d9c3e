import type { ProcedureDef } from '../../rpc/program.js';
import type { MountDeps } from '../env.js';
import type { MountEntry } from '../types.js';
import { encodeMountList } from '../codec.js';

/** MOUNTPROC3_DUMP: mountlist (void) = 2. Who has mounted what, as far as we were told. */
export function dumpProcedure(deps: MountDeps): ProcedureDef<void, MountEntry[]> {
  return {
    name: 'DUMP',
    decode: () => undefined,
    handle: () => deps.mountList.list(),
    encode: encodeMountList,
    cache: 'none',
  };
}
