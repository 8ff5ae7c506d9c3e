import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import type { Attrs, DirEntry, Node } from '../../storage/types.js';
import type { Nfs3Env } from '../env.js';
import type { ReaddirplusArgs, ReaddirplusRes } from '../types.js';
import { decodeReaddirplusArgs } from '../codec/args.js';
import { dirInfoSize, encodeReaddirplusRes, readdirFixedSize } from '../codec/results.js';
import { FATTR3_SIZE } from '../codec/basic.js';
import { writeEntryPlus } from '../codec/entryplus.js';
import { XdrWriter } from '../../xdr/index.js';
import { toFattr3 } from '../attrs.js';
import { callerOf, reachableAfterRefusal } from '../common.js';
import { refuse, toNfsStat } from '../status.js';
import { dotEntries, pageLimit } from '../readdir-common.js';
import { ReplyAhead, type AheadStats } from '../../vfs/reply-ahead.js';
import type { CallContext } from '../../rpc/context.js';

/** An entry with what READDIRPLUS adds; either may be missing (post_op FALSE). */
interface PlusItem extends DirEntry {
  attrs: Attrs | undefined;
  node: Node | undefined;
}

/** The smallest directory-info part (fileid, 1..4-byte name, cookie). */
const MIN_DIRINFO = dirInfoSize(1);
/** Fewer entries per backend call than READDIR: each costs a lookup and a getattr. */
const MAX_PLUS_PAGE = 256;

/**
 * Attributes and node of one entry. An entry that vanished (or cannot be
 * read) between readdir and lookup gets neither, rather than failing the
 * whole call: the client falls back to LOOKUP for it.
 */
async function resolve(dir: Verified, e: DirEntry): Promise<PlusItem> {
  try {
    const b = dir.export.backend;
    const node = await b.lookup(dir.node, e.name);
    const attrs = await b.getattr(node);
    return { name: e.name, fileid: e.fileid, cookie: e.cookie, attrs, node };
  } catch {
    return { name: e.name, fileid: e.fileid, cookie: e.cookie, attrs: undefined, node: undefined };
  }
}

/**
 * One page with attributes and nodes: from the backend's readdirPlus when
 * it has one (one stat per entry while listing), else readdir followed by
 * concurrent lookups and getattrs. Handles are composed later, only for the
 * entries that fit.
 */
async function fetchPage(dir: Verified, cookie: bigint, limit: number): Promise<{ entries: readonly PlusItem[]; eof: boolean }> {
  const b = dir.export.backend;
  if (b.readdirPlus) return b.readdirPlus(dir.node, cookie, limit);
  const page = await b.readdir(dir.node, cookie, limit);
  return { entries: await Promise.all(page.entries.map((e) => resolve(dir, e))), eof: page.eof };
}

/** Encoded size of an entryplus3: entry3 + post_op_attr + post_op_fh3. */
function plusSize(nameBytes: number, hasAttrs: boolean, fh: Buffer | undefined): number {
  return (
    4 + 8 + 4 + ((nameBytes + 3) & ~3) + 8 + (hasAttrs ? 4 + FATTR3_SIZE : 4) + (fh === undefined ? 4 : 8 + ((fh.length + 3) & ~3))
  );
}

/** The entries of one reply, encoded, and where the listing stands after them. */
interface Page {
  encoded: Buffer;
  eof: boolean;
  /** The cookie of the last entry in the reply (the next request's cookie). */
  last: bigint;
}

/**
 * The entries after `args.cookie` that fit both budgets, exact: `maxcount`
 * bounds the whole READDIRPLUS3resok (capped at rtmax), `dircount` the
 * directory information alone (fileid + name + cookie per entry, RFC: "not
 * including attributes and file handle"). The first entry that overflows
 * either ends the reply; none fits: TOOSMALL. `fixed` is what the reply
 * takes besides its entries.
 */
async function buildPage(env: Nfs3Env, dir: Verified, args: ReaddirplusArgs, fixed: number): Promise<Page> {
  const budget = Math.min(args.maxcount, env.rtmax);
  // Typical entry with attributes and a handle the size of the directory's.
  const typical = MIN_DIRINFO + 4 + 4 + FATTR3_SIZE + 8 + args.dir.length;
  let used = fixed;
  // Not even an empty listing fits.
  if (budget < used) refuse('ETOOSMALL', `count below the ${used}-byte minimum reply`);
  const exp = dir.export;
  const fsid = exp.id;
  const out = new XdrWriter(Math.max(256, Math.min(budget - used, 16384)));
  let count = 0;
  let dirUsed = 0;
  let cookie = args.cookie;
  let last = args.cookie;
  let eof = false;
  let full = false;
  /** Add one entry if it fits both budgets; false (and nothing written) if not. */
  const add = (e: PlusItem, nameBytes: number): boolean => {
    const fh = e.node === undefined ? undefined : env.gate.compose(exp, e.node);
    const size = plusSize(nameBytes, e.attrs !== undefined, fh);
    const dsize = 8 + 4 + ((nameBytes + 3) & ~3) + 8;
    if (used + size > budget || dirUsed + dsize > args.dircount) return false;
    used += size;
    dirUsed += dsize;
    writeEntryPlus(out, size, e.fileid, e.name, nameBytes, e.cookie, e.attrs, fsid, fh);
    count++;
    last = e.cookie;
    return true;
  };
  for (const d of await dotEntries(dir, args.cookie)) {
    if (!add({ name: d.name, fileid: d.attrs.fileid, cookie: d.cookie, attrs: d.attrs, node: d.node }, d.name.length)) {
      full = true;
      break;
    }
  }
  while (!full) {
    if ((budget - used < typical || args.dircount - dirUsed < MIN_DIRINFO) && count > 0) break;
    const limit = Math.min(MAX_PLUS_PAGE, pageLimit(budget - used, typical), pageLimit(args.dircount - dirUsed, MIN_DIRINFO));
    const page = await fetchPage(dir, cookie, limit);
    const list = page.entries;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (!add(e, Buffer.byteLength(e.name, 'utf8'))) {
        full = true;
        break;
      }
    }
    if (full) break;
    if (page.eof) {
      eof = true;
      break;
    }
    if (list.length === 0) break;
    cookie = list[list.length - 1].cookie;
  }
  if (count === 0 && !eof) {
    refuse('ETOOSMALL', `dircount ${args.dircount} / maxcount ${args.maxcount} too small for one entry`);
  }
  return { encoded: out.finish(), eof, last };
}

/** How long (by default) a page computed ahead may wait for its request. */
const AHEAD_MS = 50;

export type { AheadStats };

/** Who asks, for which page, within which budgets: the key of a page computed ahead. */
function aheadKey(args: ReaddirplusArgs, cookie: bigint, ctx: CallContext): string {
  return `${ctx.peer.address}|${args.dir.toString('latin1')}|${cookie}|${args.dircount}|${args.maxcount}`;
}

/**
 * NFSPROC3_READDIRPLUS (3.3.17). Like READDIR, plus each entry's attributes
 * and handle; the entries are encoded by buildPage. Once a reply that is not
 * the last has gone out, the next page is computed ahead (vfs/reply-ahead.ts),
 * fresh for at most env.readdirplusAheadMs. A 10,000-entry `nfs-ls` is ~190
 * such round trips.
 */
export function readdirplusProcedure(env: Nfs3Env): ProcedureDef<ReaddirplusArgs, ReaddirplusRes> & { stats: AheadStats } {
  const stats: AheadStats = env.readdirplusAhead ?? { started: 0, served: 0, stale: 0 };
  const ahead = new ReplyAhead<Page>(env.changes, stats, env.readdirplusAheadMs ?? AHEAD_MS);

  /** Compute the page after `page` in the background, for the request that will ask for it. */
  const startAhead = (args: ReaddirplusArgs, ctx: CallContext, page: Page, fixed: number): void =>
    ahead.start(aheadKey(args, page.last, ctx), async () => {
      const dir = await env.gate.verify(args.dir, callerOf(ctx), { type: 'dir', may: May.READ });
      return { dir: dir.attrs, page: await buildPage(env, dir, { ...args, cookie: page.last }, fixed) };
    });

  return {
    name: 'READDIRPLUS',
    decode: decodeReaddirplusArgs,
    async handle(args, ctx) {
      let v: Verified | undefined;
      try {
        v = await env.gate.verify(args.dir, callerOf(ctx), { type: 'dir', may: May.READ });
        const dirAttrs = toFattr3(v.attrs, v.export);
        const fixed = readdirFixedSize(dirAttrs);
        const key = aheadKey(args, args.cookie, ctx);
        const page = (await ahead.take(key, v.attrs)) ?? (await buildPage(env, v, args, fixed));
        if (!page.eof) startAhead(args, ctx, page, fixed);
        return { status: 0, dirAttrs, cookieverf: Buffer.from(args.cookieverf), entries: [], encoded: page.encoded, eof: page.eof };
      } catch (e) {
        v ??= await reachableAfterRefusal(env.gate, args.dir, ctx, e);
        return { status: toNfsStat(e), dirAttrs: v && toFattr3(v.attrs, v.export) };
      }
    },
    encode: encodeReaddirplusRes,
    cache: 'none',
    stats,
  };
}
