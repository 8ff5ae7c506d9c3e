import { May, type Verified } from '../../export/types.js';
import type { Attrs, DirPlusEntry, Node } from '../../storage/types.js';
import { XdrWriter } from '../../xdr/index.js';
import { Attr4, Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { Bitmap4, Fattr4, Readdir4Args, Readdir4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { bitmap4, bitmap4And, bitmap4Has, bitmap4IsEmpty } from '../codec/bitmap.js';
import { writeEntry4, writeEntry4Head } from '../codec/ops-dir.js';
import { fattr4Of, fattr4Plan, writeFattr4, WRITE_ONLY } from '../attrs.js';
import { toNfs4Stat, verifyCurrent } from './common.js';
import type { Nfs4Env } from '../env.js';
import type { Peer } from '../../rpc/context.js';
import { ReplyAhead } from '../../vfs/reply-ahead.js';

/** knfsd answers a zero cookie verifier and never checks the one it is sent (NFSv3 does the same here). */
const VERIFIER = Buffer.alloc(8);
/** READDIR4resok around the entries: verifier, the list's end and eof. */
const RESOK_BYTES = 8 + 4 + 4;
/** Most entries asked of the backend at once while filling a reply. */
const MAX_PAGE = 256;
/** An entry with what the Linux client asks for and a short name, in bytes: the first page's guess. */
const TYPICAL_ENTRY = 176;

/** An entry whose attributes could not be had: only rdattr_error, when asked for (RFC 8881 section 5.8.1.12). */
function errorAttrs(status: Nfs4Error): Fattr4 {
  return { mask: bitmap4(Attr4.RDATTR_ERROR), values: { rdattrError: status } };
}

function entryAttrs(c: Lister, dir: Verified, e: { name: string; node?: Node; attrs?: Attrs }, request: Bitmap4): Fattr4 | Promise<Fattr4> {
  const ns = c.env.exports.namespace;
  // The common case, synchronously: the backend listed the entry with its attributes, no junction can be here.
  if (e.node && e.attrs && !ns.mayCross(dir.export)) return fattr4Of(c.env, c.minor, { exp: dir.export, node: e.node, attrs: e.attrs }, request);
  return crossingAttrs(c, dir, e, request);
}

async function crossingAttrs(c: Lister, dir: Verified, e: { name: string; node?: Node; attrs?: Attrs }, request: Bitmap4): Promise<Fattr4> {
  const b = dir.export.backend;
  const node = e.node ?? (await b.lookup(dir.node, e.name));
  let exp = dir.export;
  let target = node;
  let attrs = e.attrs;
  const ns = c.env.exports.namespace;
  if (exp === c.env.exports.pseudo()) {
    if (!(await ns.visible(node, c.peer))) return { mask: [], values: {} };
  }
  // A junction shows the root of the export there, with mounted_on_fileid the directory's (as knfsd).
  const j = await ns.junction(exp, node);
  if (j && (await c.env.exports.optionsFor(j, c.peer))) {
    exp = j;
    target = await j.backend.root();
    attrs = { ...(await j.backend.getattr(target)), fsid: BigInt(j.id) };
    const f = await fattr4Of(c.env, c.minor, { exp, node: target, attrs }, request);
    if (f.values.mountedOnFileid !== undefined) f.values.mountedOnFileid = node.fileid;
    return f;
  }
  attrs ??= await b.getattr(node);
  return fattr4Of(c.env, c.minor, { exp, node: target, attrs }, request);
}

/** What listing a directory needs of the COMPOUND — kept past it for a reply computed ahead. */
interface Lister {
  env: Nfs4Env;
  minor: number;
  peer: Peer;
}

/** One READDIR reply's entries, encoded, and where the listing stands after them. */
interface Page {
  encoded: Buffer;
  eof: boolean;
  /** The cookie of the last entry in the reply (where the next request starts). */
  last: bigint;
}

/** The entries after `cookie` that fit `max` bytes of reply, or the status that ends the READDIR. */
async function buildPage(c: Lister, dir: Verified, a: Readdir4Args, cookie: bigint, max: number): Promise<Page | Nfs4Error> {
  const withError = bitmap4Has(a.attrRequest, Attr4.RDATTR_ERROR);
  const w = new XdrWriter(Math.min(max, 64 * 1024));
  const b = dir.export.backend;
  const plan = fattr4Plan(c.minor, a.attrRequest);
  const crossing = c.env.exports.namespace.mayCross(dir.export);
  let last = cookie;
  let eof = false;
  let count = 0;
  let typical = TYPICAL_ENTRY;
  fill: for (;;) {
    // As many entries as the room left should take (one more, to see the end): one backend page
    // per reply, and no entries listed (and stat'ed) only to be dropped.
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor((max - RESOK_BYTES - w.length) / typical) + 1));
    const page = b.readdirPlus ? await b.readdirPlus(dir.node, last, limit) : await b.readdir(dir.node, last, limit);
    for (const e of page.entries) {
      const at = w.length;
      const listed = e as Partial<DirPlusEntry> & { name: string };
      if (plan && listed.node && listed.attrs && !crossing) {
        // The common case: listed with attributes, no junction possible — written straight by the plan.
        writeEntry4Head(w, e.cookie, e.name);
        writeFattr4(w, plan, c.env, c.minor, { exp: dir.export, node: listed.node, attrs: listed.attrs });
      } else {
        let attrs: Fattr4;
        try {
          const got = entryAttrs(c, dir, listed, a.attrRequest);
          attrs = got instanceof Promise ? await got : got;
        } catch (err) {
          const st = toNfs4Stat(err);
          // Gone between the listing and now: not an entry any more.
          if (st === Nfs4Stat.NOENT || st === Nfs4Stat.STALE) continue;
          if (!withError) return st;
          attrs = errorAttrs(st);
        }
        if (attrs.mask.length === 0 && c.env.exports.pseudo() === dir.export) continue;
        writeEntry4(w, { cookie: e.cookie, name: e.name, attrs });
      }
      if (w.length + RESOK_BYTES > max) {
        if (count === 0) return Nfs4Stat.TOOSMALL;
        // Back out the entry that did not fit: the next READDIR starts with it.
        w.truncate(at);
        break fill;
      }
      count++;
      last = e.cookie;
      typical = Math.ceil(w.length / count);
    }
    if (page.eof) {
      eof = true;
      break;
    }
    if (page.entries.length === 0) break;
  }
  return { encoded: Buffer.from(w.finish()), eof, last };
}

/** How long a reply computed ahead may wait for its request (as NFSv3's READDIRPLUS). */
const AHEAD_MS = 50;
const aheads = new WeakMap<Nfs4Env, ReplyAhead<Page>>();

function aheadOf(env: Nfs4Env): ReplyAhead<Page> {
  let r = aheads.get(env);
  if (r === undefined) {
    r = new ReplyAhead<Page>(env.changes, { started: 0, served: 0, stale: 0 }, AHEAD_MS);
    aheads.set(env, r);
  }
  return r;
}

/** Who asks, for which reply, within which budgets and for which attributes. */
function aheadKey(c: Compound, fh: Buffer, a: Readdir4Args, cookie: bigint, max: number): string {
  return `${c.ctx.peer.address}|${c.client?.id}|${c.minor}|${fh.toString('latin1')}|${cookie}|${max}|${a.attrRequest.join(',')}`;
}

/**
 * READDIR (RFC 8881 section 18.23): entries after `cookie` with the requested attributes each,
 * within `maxcount` bytes of reply (NFS4ERR_TOOSMALL when not even one fits). Cookies are the
 * backend's (unique, stable, never 0, 1 or 2: 1 and 2 are NFS4ERR_BAD_COOKIE). An entry whose
 * attributes fail carries rdattr_error when it was asked for; otherwise the READDIR fails with it.
 * The pseudo-filesystem lists only what this client may reach. Once a reply that is not the last
 * has gone, the next is computed ahead (vfs/reply-ahead.ts), as NFSv3's READDIRPLUS does.
 */
export const readdir: OpRow<26> = {
  async handler(a: Readdir4Args, c: Compound): Promise<Readdir4Res> {
    if (a.cookie === 1n || a.cookie === 2n) return { status: Nfs4Stat.BAD_COOKIE };
    if (!bitmap4IsEmpty(bitmap4And(a.attrRequest, WRITE_ONLY))) return { status: Nfs4Stat.INVAL };
    try {
      const fh = c.fh!;
      const dir = await verifyCurrent(c, { type: 'dir', may: May.READ });
      // The op number and status go beside READDIR4resok in the room the session leaves.
      const max = Math.min(a.maxcount, c.room - 8, c.env.rtmax + 4096);
      if (max < RESOK_BYTES + 24) return { status: Nfs4Stat.TOOSMALL };
      const lister: Lister = { env: c.env, minor: c.minor, peer: c.ctx.peer };
      const ahead = aheadOf(c.env);
      const page = (await ahead.take(aheadKey(c, fh, a, a.cookie, max), dir.attrs)) ?? (await buildPage(lister, dir, a, a.cookie, max));
      if (typeof page === 'number') return { status: page };
      if (!page.eof) {
        const caller = c.caller();
        ahead.start(aheadKey(c, fh, a, page.last, max), async () => {
          const d = await c.env.gate.verify(fh, caller, { type: 'dir', may: May.READ });
          const next = await buildPage(lister, d, a, page.last, max);
          if (typeof next === 'number') throw new Error(`READDIR ahead: ${next}`);
          return { dir: d.attrs, page: next };
        });
      }
      return { status: 0, cookieverf: VERIFIER, entries: [], eof: page.eof, encoded: page.encoded };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
};
