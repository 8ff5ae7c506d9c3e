import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';

/** NFSPROC3_NULL: void NFSPROC3_NULL(void) = 0. Pings the server; no work, no auth checks. */
export function nullProcedure(_env: Nfs3Env): ProcedureDef<void, void> {
  return {
    name: 'NULL',
    decode: () => undefined,
    handle: () => undefined,
    encode: () => undefined,
    cache: 'none',
  };
}
