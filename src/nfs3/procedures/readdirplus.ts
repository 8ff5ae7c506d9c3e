import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { DirEntry } from '../../storage/types.js';

type Resolved = DirEntry & { attrs: PostOpAttr; handle: PostOpFh3 };
import type { Nfs3Env } from '../env.js';
import type { EntryPlus3, PostOpAttr, PostOpFh3, ReaddirplusArgs, ReaddirplusRes } from '../types.js';
import { decodeReaddirplusArgs } from '../codec/args.js';
import { dirInfoSize, encodeReaddirplusRes, entryPlus3Size, readdirFixedSize } from '../codec/results.js';
import { FATTR3_SIZE } from '../codec/basic.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { refuse, toNfsStat } from '../status.js';
import { dotEntries, pageLimit } from '../readdir-common.js';

/** The smallest directory-info part (fileid, 1..4-byte name, cookie). */
const MIN_DIRINFO = dirInfoSize(1);
/** Fewer entries per backend call than READDIR: each costs a lookup and a getattr. */
const MAX_PLUS_PAGE = 256;

/**
 * Attributes and handle of one entry. An entry that vanished (or cannot be
 * read) between readdir and lookup gets neither, rather than failing the
 * whole call: the client falls back to LOOKUP for it.
 */
async function resolve(env: Nfs3Env, dir: Verified, e: DirEntry): Promise<{ attrs: PostOpAttr; handle: PostOpFh3 }> {
  try {
    const b = dir.export.backend;
    const node = await b.lookup(dir.node, e.name);
    const attrs = toFattr3(await b.getattr(node), dir.export);
    return { attrs, handle: env.gate.compose(dir.export, node) };
  } catch {
    return { attrs: undefined, handle: undefined };
  }
}

/**
 * One page with attributes and handles: from the backend's readdirPlus when
 * it has one (one stat per entry while listing), else readdir followed by
 * concurrent lookups and getattrs.
 */
async function fetchPage(env: Nfs3Env, dir: Verified, cookie: bigint, limit: number): Promise<{ entries: Resolved[]; eof: boolean }> {
  const b = dir.export.backend;
  if (b.readdirPlus) {
    const page = await b.readdirPlus(dir.node, cookie, limit);
    const entries = page.entries.map((e) => ({
      name: e.name,
      fileid: e.fileid,
      cookie: e.cookie,
      attrs: toFattr3(e.attrs, dir.export),
      handle: env.gate.compose(dir.export, e.node),
    }));
    return { entries, eof: page.eof };
  }
  const page = await b.readdir(dir.node, cookie, limit);
  const resolved = await Promise.all(page.entries.map((e) => resolve(env, dir, e)));
  return { entries: page.entries.map((e, i) => ({ ...e, ...resolved[i] })), eof: page.eof };
}

/**
 * NFSPROC3_READDIRPLUS (3.3.17). Like READDIR, plus each entry's attributes
 * and handle. Two budgets, both exact: `maxcount` bounds the whole
 * READDIRPLUS3resok (capped at rtmax), `dircount` the directory information
 * alone (fileid + name + cookie per entry, RFC: "not including attributes
 * and file handle"). The first entry that overflows either ends the reply;
 * none fits: TOOSMALL.
 */
export function readdirplusProcedure(env: Nfs3Env): ProcedureDef<ReaddirplusArgs, ReaddirplusRes> {
  return {
    name: 'READDIRPLUS',
    decode: decodeReaddirplusArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.dir, callerOf(ctx), { type: 'dir', may: May.READ });
        const dir = v;
        const dirAttrs = toFattr3(v.attrs, v.export);
        const budget = Math.min(args.maxcount, env.rtmax);
        // Typical entry with attributes and a handle the size of the directory's.
        const typical = MIN_DIRINFO + 4 + 4 + FATTR3_SIZE + 8 + args.dir.length;
        let used = readdirFixedSize(dirAttrs);
        // Not even an empty listing fits.
        if (budget < used) refuse('ETOOSMALL', `count below the ${used}-byte minimum reply`);
        let dirUsed = 0;
        const entries: EntryPlus3[] = [];
        let cookie = args.cookie;
        let eof = false;
        let dotsFull = false;
        for (const d of await dotEntries(dir, args.cookie)) {
          const e = { attrs: toFattr3(d.attrs, dir.export), handle: env.gate.compose(dir.export, d.node) };
          const size = entryPlus3Size(d.name.length, e);
          const dsize = dirInfoSize(d.name.length);
          if (used + size > budget || dirUsed + dsize > args.dircount) {
            dotsFull = true;
            break;
          }
          used += size;
          dirUsed += dsize;
          entries.push({ fileid: d.attrs.fileid, name: d.name, cookie: d.cookie, ...e });
        }
        while (!dotsFull) {
          if ((budget - used < typical || args.dircount - dirUsed < MIN_DIRINFO) && entries.length > 0) break;
          const limit = Math.min(
            MAX_PLUS_PAGE,
            pageLimit(budget - used, typical),
            pageLimit(args.dircount - dirUsed, MIN_DIRINFO),
          );
          const page = await fetchPage(env, dir, cookie, limit);
          let full = false;
          for (const e of page.entries) {
            const nameBytes = Buffer.byteLength(e.name, 'utf8');
            const size = entryPlus3Size(nameBytes, e);
            const dsize = dirInfoSize(nameBytes);
            if (used + size > budget || dirUsed + dsize > args.dircount) {
              full = true;
              break;
            }
            used += size;
            dirUsed += dsize;
            entries.push({ fileid: e.fileid, name: e.name, cookie: e.cookie, attrs: e.attrs, handle: e.handle });
          }
          if (full) break;
          if (page.eof) {
            eof = true;
            break;
          }
          if (page.entries.length === 0) break;
          cookie = page.entries[page.entries.length - 1].cookie;
        }
        if (entries.length === 0 && !eof) {
          refuse('ETOOSMALL', `dircount ${args.dircount} / maxcount ${args.maxcount} too small for one entry`);
        }
        return { status: 0, dirAttrs, cookieverf: Buffer.from(args.cookieverf), entries, eof };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.dir, ctx, e);
        return { status: toNfsStat(e), dirAttrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeReaddirplusRes,
    cache: 'none',
  };
}
