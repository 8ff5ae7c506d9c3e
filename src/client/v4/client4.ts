/**
 * What an NfsClient does differently on NFSv4: a FileHandle is an OPEN
 * (open() here), copyFile() may be the server's (COPY or CLONE on 4.2),
 * and close() ends the session. Everything else goes through the shared fs
 * layer over Nfs4Fs (fs.ts).
 *
 * open(): one COMPOUND, as Linux's atomic open — PUTFH(parent) OPEN(name)
 * GETFH GETATTR: share access from the flags; O_CREAT is UNCHECKED4 with the
 * mode, O_EXCL is EXCLUSIVE4_1 (GUARDED4 where the server has not got it),
 * O_TRUNC an explicit SETATTR when the file was not empty. A name that is a
 * symlink (NFS4ERR_SYMLINK) is followed by the client's own walk and opened
 * by handle (CLAIM_FH). Directories and special files get no OPEN (Linux
 * sends none either): their FileHandle has no state, so no locks.
 */
import { randomBytes } from 'node:crypto';
import { Attr4, Nfs4Op, Nfs4Stat, Open4Share, StableHow4 } from '../../nfs4/constants.js';
import { bitmap4, bitmap4Has } from '../../nfs4/codec/bitmap.js';
import type { Nfs4ArgOp, Openflag4, OpenClaim4 } from '../../nfs4/types.js';
import { Ftype3, StableHow3 } from '../../nfs3/constants.js';
import type { Fattr3 } from '../../nfs3/types.js';
import { NfsError } from '../errors.js';
import { FileHandle, type FileHandleHost } from '../filehandle.js';
import { components, joinPath, parseMode, type OpenFlags } from '../util.js';
import { STAT_ATTRS, toFattr3, type IdMap } from './attrs.js';
import type { Nfs4Session } from './session.js';
import { OpenState, putfh, type Nfs4State } from './state.js';
import { nfs4Error } from './status.js';

/** What open() needs of the client: its walk (symlinks, '..') and its umask. */
export interface OpenHost extends FileHandleHost {
  readonly cwd: string;
  readonly umask: number;
  walk(p: string, follow: boolean, syscall?: string): Promise<{ handle: Buffer; attrs: Fattr3; path: string }>;
  parentOf(p: string, syscall: string): Promise<{ dir: Buffer; name: string }>;
}

/** Statuses of COPY / CLONE that mean "not here": the client copies by READ and WRITE instead. */
const NO_OFFLOAD = new Set<number>([Nfs4Stat.NOTSUPP, Nfs4Stat.XDEV, Nfs4Stat.OFFLOAD_DENIED, Nfs4Stat.OP_ILLEGAL, Nfs4Stat.INVAL, Nfs4Stat.WRONG_TYPE, Nfs4Stat.OFFLOAD_NO_REQS]);

export class Nfs4Driver {
  /** EXCLUSIVE4_1 until the server refuses it. */
  private exclusive41 = true;
  /** copyFile(): done by the server (COPY, CLONE), or declined by it (the client copied). */
  readonly stats = { copies: 0, clones: 0, declined: 0 };

  constructor(
    readonly session: Nfs4Session,
    readonly state: Nfs4State,
    readonly ids: IdMap,
  ) {}

  get minor(): number {
    return this.session.minor;
  }

  async open(c: OpenHost, p: string, f: OpenFlags, mode: number | string): Promise<FileHandle> {
    const comps = components(joinPath(c.cwd, p));
    const last = comps[comps.length - 1];
    // The export root or a path ending in '..' is a directory: no OPEN.
    if (last === undefined || last === '..') return this.stateless(c, p, f);
    const { dir, name } = await c.parentOf(p, 'open');
    let how: Openflag4 = { opentype: 0 };
    if (f.create) {
      const m = parseMode(mode, 0o666) & ~c.umask & 0o7777;
      const createattrs = { mask: bitmap4(Attr4.MODE), values: { mode: m } };
      how = !f.excl
        ? { opentype: 1, how: { mode: 0, createattrs } }
        : this.exclusive41
          ? { opentype: 1, how: { mode: 3, createverf: randomBytes(8), createattrs } }
          : { opentype: 1, how: { mode: 1, createattrs } };
    }
    const r = await this.openCompound(dir, { claim: 0, file: name }, f, how);
    if ('handle' in r) return r.handle(c, p);
    switch (r.status) {
      case Nfs4Stat.SYMLINK: {
        // The name is a symlink: follow it as the kernel does (or refuse it, O_NOFOLLOW), then open what it names.
        if (f.nofollow) throw new NfsError('ELOOP', { syscall: 'open', path: p });
        const t = await c.walk(p, true, 'open');
        if (t.attrs.type !== Ftype3.REG) return this.stateless(c, p, f, t);
        const byFh = await this.openCompound(t.handle, { claim: 4 }, f, { opentype: 0 }, true);
        if ('handle' in byFh) return byFh.handle(c, p);
        throw nfs4Error(byFh.status, 'open', p);
      }
      case Nfs4Stat.ISDIR:
        if (f.write) throw nfs4Error(r.status, 'open', p);
        return this.stateless(c, p, f);
      case Nfs4Stat.WRONG_TYPE:
      case Nfs4Stat.BADTYPE:
        return this.stateless(c, p, f);
      case Nfs4Stat.NOTSUPP:
      case Nfs4Stat.INVAL:
        if (f.excl && this.exclusive41) {
          // No EXCLUSIVE4_1 here: GUARDED4 refuses an existing name just the same.
          this.exclusive41 = false;
          return this.open(c, p, f, mode);
        }
        throw nfs4Error(r.status, 'open', p);
      default:
        throw nfs4Error(r.status, 'open', p);
    }
  }

  /** OPEN and what follows it; on success a maker of the FileHandle, else the status. */
  private async openCompound(
    fh: Buffer,
    claim: OpenClaim4,
    f: OpenFlags,
    how: Openflag4,
    byHandle = false,
  ): Promise<{ status: number } | { handle: (c: OpenHost, p: string) => Promise<FileHandle> }> {
    const access = (f.read ? Open4Share.ACCESS_READ : 0) | (f.write ? Open4Share.ACCESS_WRITE : 0) || Open4Share.ACCESS_READ;
    const owner = this.state.owner('open');
    // Built per attempt: after a recovery the client id is a new one.
    const build = (): Nfs4ArgOp[] => [
      putfh(fh),
      {
        op: Nfs4Op.OPEN,
        args: { seqid: 0, shareAccess: access | Open4Share.WANT_NO_DELEG, shareDeny: 0, owner: { clientid: this.session.clientid, owner }, openhow: how, claim },
      },
      ...(byHandle ? [] : [{ op: Nfs4Op.GETFH, args: undefined } as Nfs4ArgOp]),
      { op: Nfs4Op.GETATTR, args: { attrRequest: STAT_ATTRS } },
    ];
    const r = await this.session.compound(build, { label: 'open', cache: true });
    const open = r.results[1];
    if (open?.op !== Nfs4Op.OPEN || open.res.status !== 0) return { status: r.status || Nfs4Stat.SERVERFAULT };
    const ok = open.res;
    const gfh = r.results.find((x) => x.op === Nfs4Op.GETFH);
    const file = byHandle ? fh : gfh?.op === Nfs4Op.GETFH && gfh.res.status === 0 ? gfh.res.object : undefined;
    const ga = r.results.find((x) => x.op === Nfs4Op.GETATTR);
    if (ok.delegation.type === 1 || ok.delegation.type === 2) {
      // We asked for none and cannot be called back: hand it back at once.
      const d = ok.delegation.type === 1 ? ok.delegation.read.stateid : ok.delegation.write.stateid;
      void this.session.compound(() => [putfh(file ?? fh), { op: Nfs4Op.DELEGRETURN, args: { delegStateid: d } }], { label: 'delegreturn', cache: true }).catch(() => undefined);
    }
    if (!file) {
      await this.closeStateid(fh, ok.stateid);
      return { status: r.status || Nfs4Stat.SERVERFAULT };
    }
    let attrs = ga?.op === Nfs4Op.GETATTR && ga.res.status === 0 ? toFattr3(ga.res.attrs.values, this.ids) : undefined;
    const st = this.state.adopt(file, '', access, owner, ok.stateid);
    return {
      handle: async (c, p) => {
        st.path = p;
        try {
          const created = how.opentype === 1 && ok.cinfo.before !== ok.cinfo.after;
          const excl = how.opentype === 1 && how.how.mode === 3 ? how.how : undefined;
          if (created && excl && !bitmap4Has(ok.attrset, Attr4.MODE)) {
            // EXCLUSIVE4_1 the server could not apply the mode with: set it now.
            const s = await c.nfs.setattr(file, { mode: excl.createattrs.values.mode ?? 0o644 }, undefined, st);
            if (s.status !== 0) throw nfs4Error(s.status, 'open', p);
          }
          if (f.directory) throw new NfsError('ENOTDIR', { syscall: 'open', path: p });
          attrs ??= await this.attrsOf(c, file, p);
          if (f.trunc && f.write && attrs.size !== 0n) {
            const s = await c.nfs.setattr(file, { size: 0n }, undefined, st);
            if (s.status !== 0) throw nfs4Error(s.status, 'open', p);
            attrs = s.wcc.after ?? { ...attrs, size: 0n };
          }
        } catch (e) {
          await st.close().catch(() => undefined);
          throw e;
        }
        const stable = f.sync ? StableHow3.FILE_SYNC : f.dsync ? StableHow3.DATA_SYNC : StableHow3.UNSTABLE;
        return new FileHandle(c, file, p, { read: f.read, write: f.write, append: f.append, stable }, attrs, st);
      },
    };
  }

  private async attrsOf(c: OpenHost, fh: Buffer, p: string): Promise<Fattr3> {
    const g = await c.nfs.getattr(fh);
    if (g.status !== 0) throw nfs4Error(g.status, 'open', p);
    return g.attrs;
  }

  private async closeStateid(fh: Buffer, stateid: { seqid: number; other: Buffer }): Promise<void> {
    await this.session.compound(() => [putfh(fh), { op: Nfs4Op.CLOSE, args: { seqid: 0, openStateid: stateid } }], { label: 'close', cache: true }).catch(() => undefined);
  }

  /** A FileHandle without an OPEN: directories, special files (and what a symlink names, when not a file). */
  private async stateless(c: OpenHost, p: string, f: OpenFlags, resolved?: { handle: Buffer; attrs: Fattr3 }): Promise<FileHandle> {
    const r = resolved ?? (await c.walk(p, !f.nofollow, 'open'));
    if (r.attrs.type === Ftype3.LNK) throw new NfsError('ELOOP', { syscall: 'open', path: p });
    if (r.attrs.type === Ftype3.DIR && f.write) throw new NfsError('EISDIR', { syscall: 'open', path: p });
    if (f.directory && r.attrs.type !== Ftype3.DIR) throw new NfsError('ENOTDIR', { syscall: 'open', path: p });
    const stable = f.sync ? StableHow3.FILE_SYNC : f.dsync ? StableHow3.DATA_SYNC : StableHow3.UNSTABLE;
    return new FileHandle(c, r.handle, p, { read: f.read, write: f.write, append: f.append, stable }, r.attrs);
  }

  /**
   * Server-side copy of `src` (from 0, `size` bytes) into `dst` (truncated): CLONE when asked
   * ('try': then COPY if the server cannot clone; 'force': CLONE only), else COPY, synchronous,
   * repeated on a short copy. false: the server cannot (the caller copies by READ and WRITE).
   */
  async copy(src: FileHandle, dst: FileHandle, size: number, clone: 'no' | 'try' | 'force'): Promise<boolean> {
    if (this.minor < 2) return false;
    const ss = src.openState;
    const ds = dst.openState;
    if (!(ss instanceof OpenState) || !(ds instanceof OpenState)) return false;
    if (clone !== 'no') {
      const r = await this.session.compound(
        () => [putfh(src.handle), { op: Nfs4Op.SAVEFH, args: undefined }, putfh(dst.handle), { op: Nfs4Op.CLONE, args: { srcStateid: ss.stateid, dstStateid: ds.stateid, srcOffset: 0n, dstOffset: 0n, count: 0n } }],
        { label: 'copyfile', cache: true },
      );
      if (r.status === 0) {
        this.stats.clones++;
        return true;
      }
      if (!NO_OFFLOAD.has(r.status)) throw nfs4Error(r.status, 'copyfile', src.path, undefined, dst.path);
      if (clone === 'force') return false;
    }
    let done = 0n;
    const total = BigInt(size);
    let unstable = false;
    while (done < total) {
      const r = await this.session.compound(
        () => [
          putfh(src.handle),
          { op: Nfs4Op.SAVEFH, args: undefined },
          putfh(dst.handle),
          { op: Nfs4Op.COPY, args: { srcStateid: ss.stateid, dstStateid: ds.stateid, srcOffset: done, dstOffset: done, count: total - done, consecutive: true, synchronous: true, sourceServers: [] } },
        ],
        { label: 'copyfile', cache: true },
      );
      const c = r.results[3];
      if (c?.op !== Nfs4Op.COPY || c.res.status !== 0) {
        if (done === 0n && NO_OFFLOAD.has(r.status)) {
          this.stats.declined++;
          return false;
        }
        throw nfs4Error(r.status, 'copyfile', src.path, undefined, dst.path);
      }
      let n = c.res.response.count;
      if (c.res.response.callbackId) n = await this.offloadWait(dst.handle, c.res.response.callbackId);
      if (c.res.response.committed !== StableHow4.FILE_SYNC) unstable = true;
      if (n === 0n) break; // the source ended early (it shrank meanwhile)
      done += n;
    }
    if (unstable) {
      const r = await this.session.compound(() => [putfh(dst.handle), { op: Nfs4Op.COMMIT, args: { offset: 0n, count: 0 } }], { label: 'copyfile' });
      if (r.status !== 0) throw nfs4Error(r.status, 'copyfile', dst.path);
    }
    this.stats.copies++;
    return true;
  }

  /** An asynchronous COPY (the server chose it): poll OFFLOAD_STATUS until it is complete (we have no callback channel). */
  private async offloadWait(fh: Buffer, id: { seqid: number; other: Buffer }): Promise<bigint> {
    for (let i = 0; ; i++) {
      const r = await this.session.compound(() => [putfh(fh), { op: Nfs4Op.OFFLOAD_STATUS, args: { stateid: id } }], { label: 'copyfile' });
      const s = r.results[1];
      if (s?.op !== Nfs4Op.OFFLOAD_STATUS || s.res.status !== 0) throw nfs4Error(r.status, 'copyfile');
      if (s.res.complete !== undefined) {
        if (s.res.complete !== 0) throw nfs4Error(s.res.complete, 'copyfile');
        return s.res.count;
      }
      await new Promise((res) => setTimeout(res, Math.min(10 * 2 ** i, 500)));
    }
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  abandon(): void {
    this.session.abandon();
  }
}
