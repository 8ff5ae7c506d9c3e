import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Nfs3Env } from '../env.js';
import type { Entry3, ReaddirArgs, ReaddirRes } from '../types.js';
import { decodeReaddirArgs } from '../codec/args.js';
import { encodeReaddirRes, entry3Size, readdirFixedSize } from '../codec/results.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { refuse, toNfsStat } from '../status.js';
import { dotEntries, pageLimit } from '../readdir-common.js';

/** entry3 with a name of 1..4 bytes: the smallest an entry can be. */
const MIN_ENTRY = entry3Size(1);

/**
 * NFSPROC3_READDIR (3.3.16).
 *
 * `count` bounds the whole READDIR3resok (RFC: "including all XDR
 * overhead"), computed exactly from the XDR sizes, and is capped at rtmax.
 * Entries come from the backend in pages sized from the remaining byte
 * budget, so a 10,000-entry directory costs a few backend calls per reply,
 * not one per entry. eof is true only when the backend said nothing follows
 * the last entry we sent. No entry fits: TOOSMALL. The cookie verifier is
 * echoed (lenient, like knfsd): our cookies stay meaningful while entries
 * exist, and the backend refuses a cookie it cannot resume from.
 */
export function readdirProcedure(env: Nfs3Env): ProcedureDef<ReaddirArgs, ReaddirRes> {
  return {
    name: 'READDIR',
    decode: decodeReaddirArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.dir, callerOf(ctx), { type: 'dir', may: May.READ });
        const b = v.export.backend;
        const dirAttrs = toFattr3(v.attrs, v.export);
        const budget = Math.min(args.count, env.rtmax);
        let used = readdirFixedSize(dirAttrs);
        // Not even an empty listing fits.
        if (budget < used) refuse('ETOOSMALL', `count below the ${used}-byte minimum reply`);
        const entries: Entry3[] = [];
        let cookie = args.cookie;
        let eof = false;
        let dotsFull = false;
        for (const d of await dotEntries(v, args.cookie)) {
          const size = entry3Size(d.name.length);
          if (used + size > budget) {
            dotsFull = true;
            break;
          }
          used += size;
          entries.push({ fileid: d.attrs.fileid, name: d.name, cookie: d.cookie });
        }
        while (!dotsFull) {
          // Not even the smallest entry fits: more exist (the last page was not eof), stop here.
          if (budget - used < MIN_ENTRY && entries.length > 0) break;
          const page = await b.readdir(v.node, cookie, pageLimit(budget - used, MIN_ENTRY));
          let full = false;
          for (const e of page.entries) {
            const size = entry3Size(Buffer.byteLength(e.name, 'utf8'));
            if (used + size > budget) {
              full = true;
              break;
            }
            used += size;
            entries.push({ fileid: e.fileid, name: e.name, cookie: e.cookie });
          }
          if (full) break;
          if (page.eof) {
            eof = true;
            break;
          }
          // A backend page without entries yet not at eof would loop forever.
          if (page.entries.length === 0) break;
          cookie = page.entries[page.entries.length - 1].cookie;
        }
        if (entries.length === 0 && !eof) refuse('ETOOSMALL', `count ${args.count} too small for one entry`);
        return { status: 0, dirAttrs, cookieverf: Buffer.from(args.cookieverf), entries, eof };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.dir, ctx, e);
        return { status: toNfsStat(e), dirAttrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeReaddirRes,
    cache: 'none',
  };
}
