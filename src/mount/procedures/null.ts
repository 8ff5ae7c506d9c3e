import type { ProcedureDef } from '../../rpc/program.js';

/** MOUNTPROC3_NULL: void (void) = 0. */
export function mountNullProcedure(): ProcedureDef<void, void> {
  return { name: 'NULL', decode: () => undefined, handle: () => undefined, encode: () => undefined, cache: 'none' };
}
