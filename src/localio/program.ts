/**
 * Program 400122 version 1, exactly as Linux has it: NULL, and UUID_IS_LOCAL
 * whose argument is 16 raw bytes and whose result is void and always
 * SUCCESS — recognised or not. The reply never says whether the client is
 * local; the binding the handler makes before returning does (see
 * server.ts). Carried on the NFS connection, never registered with the
 * portmapper.
 */
import type { ProcedureDef, RpcProgram } from '../rpc/program.js';
import type { CallContext } from '../rpc/context.js';
import { LOCALIO_PROGRAM, LOCALIO_V1, UUID_SIZE } from './constants.js';

export interface LocalioProgramEnv {
  /** Look the nonce up and bind its client; resolves once the binding is complete (or found not to exist). */
  uuidIsLocal(uuid: Buffer, ctx: CallContext): Promise<void>;
}

export function createLocalioProgram(env: LocalioProgramEnv): RpcProgram {
  const nullProc: ProcedureDef<void, void> = {
    name: 'LOCALIO_NULL',
    decode: () => undefined,
    handle: () => undefined,
    encode: () => undefined,
    cache: 'none',
  };
  const uuidIsLocal: ProcedureDef<Buffer, void> = {
    name: 'UUID_IS_LOCAL',
    // Fixed opaque: exactly 16 bytes, no length word. Anything shorter is GARBAGE_ARGS.
    decode: (r) => Buffer.from(r.fixedOpaque(UUID_SIZE)),
    handle: async (uuid, ctx) => {
      // Whatever happens, the answer is void/SUCCESS: a failure to bind just leaves the client remote.
      await env.uuidIsLocal(uuid, ctx).catch(() => undefined);
    },
    encode: () => undefined,
    cache: 'none',
  };
  return { number: LOCALIO_PROGRAM, name: 'localio', versions: new Map([[LOCALIO_V1, [nullProc, uuidIsLocal]]]) };
}
