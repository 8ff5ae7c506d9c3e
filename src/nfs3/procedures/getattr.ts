import type { ProcedureDef } from '../../rpc/program.js';
import type { Nfs3Env } from '../env.js';
import type { GetattrArgs, GetattrRes } from '../types.js';
import { decodeGetattrArgs } from '../codec/args.js';
import { encodeGetattrRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf } from '../common.js';
import { toNfsStat } from '../status.js';

/** NFSPROC3_GETATTR (3.3.1): attributes of any object; no permission needed beyond reaching the export. */
export function getattrProcedure(env: Nfs3Env): ProcedureDef<GetattrArgs, GetattrRes> {
  return {
    name: 'GETATTR',
    decode: decodeGetattrArgs,
    async handle(args, ctx) {
      try {
        const v = await env.gate.verify(args.object, callerOf(ctx));
        return { status: 0, attrs: toFattr3(v.attrs, v.export) };
      } catch (e) {
        return { status: toNfsStat(e) };
      }
    },
    encode: encodeGetattrRes,
    cache: 'none',
  };
}
