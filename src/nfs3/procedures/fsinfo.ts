import type { ProcedureDef } from '../../rpc/program.js';
import type { Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { FsinfoArgs, FsinfoRes } from '../types.js';
import { decodeFsinfoArgs } from '../codec/args.js';
import { encodeFsinfoRes } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { Fsf3, NFS3_OFFSET_MAX } from '../constants.js';
import { toNfsStat } from '../status.js';

/** Transfer sizes are multiples of a page: clients align their I/O to it. */
const IO_MULTIPLE = 4096;

/**
 * NFSPROC3_FSINFO (3.3.19): transfer sizes (preferred = maximum, as knfsd:
 * one 1 MiB transfer beats many small ones), 1 ns time granularity, files up
 * to 2^63-1 bytes; hard links and symlinks supported, pathconf the same for
 * every object (HOMOGENEOUS), and SETATTR can set times (CANSETTIME).
 */
export function fsinfoProcedure(env: Nfs3Env): ProcedureDef<FsinfoArgs, FsinfoRes> {
  return {
    name: 'FSINFO',
    decode: decodeFsinfoArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.fsroot, callerOf(ctx));
        return {
          status: 0,
          attrs: toFattr3(v.attrs, v.export),
          rtmax: env.rtmax,
          rtpref: env.rtmax,
          rtmult: IO_MULTIPLE,
          wtmax: env.wtmax,
          wtpref: env.wtmax,
          wtmult: IO_MULTIPLE,
          dtpref: env.dtpref,
          maxfilesize: NFS3_OFFSET_MAX,
          timeDelta: { seconds: 0, nseconds: 1 },
          properties: Fsf3.LINK | Fsf3.SYMLINK | Fsf3.HOMOGENEOUS | Fsf3.CANSETTIME,
        };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.fsroot, ctx, e);
        return { status: toNfsStat(e), attrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeFsinfoRes,
    cache: 'none',
  };
}
