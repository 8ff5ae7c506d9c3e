/**
 * NFSv3's procedures as NFSv4 COMPOUNDs, answering in v3's shapes
 * (procs.ts): the fs layer runs unchanged on v4, and reports the same
 * errors. Each method is one COMPOUND (SEQUENCE added by the session):
 * PUTFH, the op, and GETFH/GETATTR where v3 would return a handle or
 * attributes. Where v4 is looser than what the fs layer relies on, the
 * COMPOUND checks what the v3 procedure checked, in the same round trip:
 * REMOVE removes directories too, so unlink() sends NVERIFY(type ≠ dir)
 * before it (a directory: NFS4ERR_SAME → ISDIR), and rmdir() VERIFY(type =
 * dir) (a file: NFS4ERR_NOT_SAME → NOTDIR).
 *
 * READ, WRITE and SETATTR carry the stateid of the FileHandle's OPEN (`st`),
 * or the anonymous stateid for calls on files not opened (truncate() by
 * path, as Linux does). A state error on such a call goes to the state
 * registry, which retries after recovery or marks just that handle lost.
 */
import { Attr4, Ftype4, NFS4_PROGRAM, NFS4_VERSION, Nfs4Op, Nfs4Proc, Nfs4Stat, Open4Share } from '../../nfs4/constants.js';
import { bitmap4 } from '../../nfs4/codec/bitmap.js';
import type { Fattr4, Nfs4ArgOp, Nfs4KnownOp, Nfs4ResMap } from '../../nfs4/types.js';
import type { Nfs3Error, StableHow3Value } from '../../nfs3/constants.js';
import type {
  AccessRes, CommitRes, CreateHow3, CreateRes, DirCreateRes, Fattr3, FsinfoRes, FsstatRes, GetattrRes, LinkRes, LookupRes,
  MknodData, PathconfRes, ReadRes, ReaddirRes, ReaddirplusRes, ReadlinkRes, RemoveRes, RenameRes, RmdirRes, Sattr3, SetattrRes,
  WriteRes,
} from '../../nfs3/types.js';
import type { NfsProcs, StateRef } from '../procs.js';
import type { ReadChunksRes } from '../raw.js';
import type { RpcTransport } from '../transport.js';
import { DIR_ATTRS, STAT_ATTRS, fromSattr3, numericOwners, toFattr3, type IdMap } from './attrs.js';
import type { CompoundOptions, Nfs4Session, Reply4 } from './session.js';
import { ANON_STATEID, Nfs4State, OpenState, STATE_ERRORS, putfh } from './state.js';

const NO_WCC = Object.freeze({ before: undefined, after: undefined });
const TYPE_DIR: Fattr4 = { mask: bitmap4(Attr4.TYPE), values: { type: Ftype4.DIR } };
const GETFH = { op: Nfs4Op.GETFH, args: undefined } as const;
const getattr = (attrRequest = STAT_ATTRS) => ({ op: Nfs4Op.GETATTR, args: { attrRequest } }) as const;

/** Half of `n`, in whole 4 KiB pages, at least one page. */
const halve = (n: number) => Math.max(4096, Math.floor(n / 2 / 4096) * 4096);

/** A v4 status in a v3-shaped result (procs.ts: the numbers agree for every status v3 has). */
const st3 = (s: number) => s as Nfs3Error;

/** The result of `op` in a reply, when it is there. */
function resOf<K extends Nfs4KnownOp>(r: Reply4, op: K): Nfs4ResMap[K] | undefined {
  for (const x of r.results) if (x.op === op) return x.res as Nfs4ResMap[K];
  return undefined;
}

export interface Nfs4FsOptions {
  /** Pause and ask again on NFS4ERR_DELAY / GRACE (the fs layer); false: answer them (raw access). */
  retry: boolean;
  /** Largest READ reply and WRITE request the session allows (fsinfo's rtmax / wtmax). */
  maxRead: () => number;
  maxWrite: () => number;
  transport: RpcTransport;
}

export class Nfs4Fs implements NfsProcs {
  /**
   * READ and WRITE sizes a server refused as too large for the session (REP_TOO_BIG, REQ_TOO_BIG)
   * although within what CREATE_SESSION granted — a server counting its own overhead more dearly than
   * we do: from then on they are cut to half (a short READ or WRITE, which the fs layer completes).
   */
  private readCap = Infinity;
  private writeCap = Infinity;

  constructor(
    private readonly s: Nfs4Session,
    private readonly state: Nfs4State,
    private readonly ids: IdMap,
    private readonly o: Nfs4FsOptions,
  ) {}

  private run(label: string, build: () => Nfs4ArgOp[], extra: Partial<CompoundOptions> = {}): Promise<Reply4> {
    return this.s.compound(build, { label, noRetry: !this.o.retry, ...extra });
  }

  /** A COMPOUND carrying `st`'s stateid: a state error is the registry's (retry after recovery, or the handle's typed error). */
  private async withState(label: string, st: StateRef | undefined, build: () => Nfs4ArgOp[], extra: Partial<CompoundOptions> = {}): Promise<Reply4> {
    for (let i = 0; ; i++) {
      // SEQUENCE said state was revoked: which handles lost theirs is known once the stateids are tested.
      if (st && this.state.checking) await this.state.checking;
      const used = st instanceof OpenState ? st.gen : 0;
      const r = await this.run(label, build, extra);
      if (st instanceof OpenState && STATE_ERRORS.has(r.status) && i < 20) {
        r.release();
        if (await this.state.stateError(st, r.status, used)) continue;
      }
      return r;
    }
  }

  private attrs(r: Reply4): Fattr3 | undefined {
    const g = resOf(r, Nfs4Op.GETATTR);
    return g?.status === 0 ? toFattr3(g.attrs.values, this.ids) : undefined;
  }

  async null(): Promise<void> {
    await this.o.transport.call(NFS4_PROGRAM, NFS4_VERSION, Nfs4Proc.NULL, this.s.o.cred, undefined, 0, 'null');
  }

  async getattr(fh: Buffer): Promise<GetattrRes> {
    const r = await this.run('getattr', () => [putfh(fh), getattr()]);
    const a = this.attrs(r);
    return a ? { status: 0, attrs: a } : { status: st3(r.status || Nfs4Stat.SERVERFAULT) };
  }

  async setattr(fh: Buffer, attrs: Sattr3, guard?: { seconds: number; nseconds: number }, st?: StateRef): Promise<SetattrRes> {
    let values = fromSattr3(attrs, this.ids);
    for (let named = this.ids.domain !== undefined; ; named = false) {
      const fattr = values;
      const r = await this.withState('setattr', st, () => [
        putfh(fh),
        ...(guard ? [{ op: Nfs4Op.VERIFY, args: { objAttributes: { mask: bitmap4(Attr4.TIME_METADATA), values: { timeMetadata: { seconds: BigInt(guard.seconds), nseconds: guard.nseconds } } } } } as Nfs4ArgOp] : []),
        // A size change needs a stateid; the anonymous one when the file is not open (truncate by path).
        { op: Nfs4Op.SETATTR, args: { stateid: st?.stateid ?? ANON_STATEID, objAttributes: fattr } },
        getattr(),
      ], { cache: true });
      if (r.status === Nfs4Stat.BADOWNER && named) {
        // The server takes only numbers (or only names it knows): say them as numbers.
        values = numericOwners(attrs);
        continue;
      }
      if (r.status === Nfs4Stat.NOT_SAME) return { status: st3(10002), wcc: NO_WCC }; // guard failed: NOT_SYNC
      if (r.status !== 0) return { status: st3(r.status), wcc: NO_WCC };
      return { status: 0, wcc: { before: undefined, after: this.attrs(r) } };
    }
  }

  async lookup(dir: Buffer, name: string): Promise<LookupRes> {
    const step: Nfs4ArgOp[] = name === '..' ? [{ op: Nfs4Op.LOOKUPP, args: undefined }] : name === '.' || name === '' ? [] : [{ op: Nfs4Op.LOOKUP, args: { objname: name } }];
    const r = await this.run('lookup', () => [putfh(dir), ...step, GETFH, getattr()]);
    const fh = resOf(r, Nfs4Op.GETFH);
    if (fh?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), dirAttrs: undefined };
    return { status: 0, object: fh.object, objAttrs: this.attrs(r), dirAttrs: undefined };
  }

  async access(fh: Buffer, access: number): Promise<AccessRes> {
    const r = await this.run('access', () => [putfh(fh), { op: Nfs4Op.ACCESS, args: { access } }]);
    const a = resOf(r, Nfs4Op.ACCESS);
    if (a?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), objAttrs: undefined };
    return { status: 0, objAttrs: undefined, access: a.access & a.supported };
  }

  async readlink(fh: Buffer): Promise<ReadlinkRes> {
    const r = await this.run('readlink', () => [putfh(fh), { op: Nfs4Op.READLINK, args: undefined }]);
    const l = resOf(r, Nfs4Op.READLINK);
    if (l?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), attrs: undefined };
    return { status: 0, attrs: undefined, data: l.link.toString('utf8') };
  }

  /** READ: `data` is a view of the reply record (never recycled: it is garbage collected). */
  async read(fh: Buffer, offset: number | bigint, count: number, st?: StateRef): Promise<ReadRes> {
    const r = await this.readChunks(fh, offset, count, st);
    return r.status === 0 ? { status: 0, attrs: undefined, count: r.count, eof: r.eof, data: r.data } : r;
  }

  /** READ whose data stays in the (pooled) reply record until `release`: the fs layer's data path. */
  async readChunks(fh: Buffer, offset: number | bigint, count: number, st?: StateRef): Promise<ReadChunksRes> {
    for (;;) {
      const n = Math.min(count, this.readCap);
      const r = await this.withState('read', st, () => [putfh(fh), { op: Nfs4Op.READ, args: { stateid: st?.stateid ?? ANON_STATEID, offset: BigInt(offset), count: n } }], { keep: true });
      const rd = resOf(r, Nfs4Op.READ);
      if (rd?.status !== 0) {
        r.release();
        if (r.status === Nfs4Stat.REP_TOO_BIG && n > 4096) {
          this.readCap = halve(n);
          continue;
        }
        return { status: st3(r.status || Nfs4Stat.SERVERFAULT), attrs: undefined };
      }
      return { status: 0, attrs: undefined, count: rd.data.length, eof: rd.eof, data: rd.data, release: r.release };
    }
  }

  write(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value, st?: StateRef): Promise<WriteRes> {
    return this.writeLent(fh, offset, data, stable, st);
  }

  /** WRITE whose data goes on the wire as it is (lent until the call settles, as Nfs3Raw.writeLent). */
  async writeLent(fh: Buffer, offset: number | bigint, data: Buffer, stable: StableHow3Value, st?: StateRef): Promise<WriteRes> {
    for (;;) {
      const part = data.length > this.writeCap ? data.subarray(0, this.writeCap) : data;
      const r = await this.withState('write', st, () => [putfh(fh), { op: Nfs4Op.WRITE, args: { stateid: st?.stateid ?? ANON_STATEID, offset: BigInt(offset), stable, data: part } }], { sizeHint: fh.length + 128 });
      const w = resOf(r, Nfs4Op.WRITE);
      if (w?.status !== 0) {
        if (r.status === Nfs4Stat.REQ_TOO_BIG && part.length > 4096) {
          this.writeCap = halve(part.length);
          continue;
        }
        return { status: st3(r.status || Nfs4Stat.SERVERFAULT), wcc: NO_WCC };
      }
      return { status: 0, wcc: NO_WCC, count: w.count, committed: w.committed, verf: w.writeverf };
    }
  }

  async commit(fh: Buffer, offset: number | bigint = 0n, count = 0): Promise<CommitRes> {
    const r = await this.run('commit', () => [putfh(fh), { op: Nfs4Op.COMMIT, args: { offset: BigInt(offset), count } }]);
    const c = resOf(r, Nfs4Op.COMMIT);
    if (c?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), wcc: NO_WCC };
    return { status: 0, wcc: NO_WCC, verf: c.writeverf };
  }

  /** CREATE of a regular file is an OPEN in v4: OPEN (create) and CLOSE, as v3's CREATE leaves nothing open. */
  async create(dir: Buffer, name: string, how: CreateHow3): Promise<CreateRes> {
    const owner = this.state.owner('open');
    const createattrs = how.mode === 2 ? undefined : fromSattr3(how.attrs, this.ids);
    const openhow =
      how.mode === 2
        ? { opentype: 1 as const, how: { mode: 3 as const, createverf: how.verf, createattrs: { mask: [], values: {} } } }
        : { opentype: 1 as const, how: { mode: how.mode, createattrs: createattrs! } };
    const r = await this.run('create', () => [
      putfh(dir),
      { op: Nfs4Op.OPEN, args: { seqid: 0, shareAccess: Open4Share.ACCESS_WRITE | Open4Share.WANT_NO_DELEG, shareDeny: 0, owner: { clientid: this.s.clientid, owner }, openhow, claim: { claim: 0, file: name } } },
      GETFH,
      getattr(),
    ], { cache: true });
    const op = resOf(r, Nfs4Op.OPEN);
    const fh = resOf(r, Nfs4Op.GETFH);
    if (op?.status === 0) await this.run('create', () => [putfh(fh?.status === 0 ? fh.object : dir), { op: Nfs4Op.CLOSE, args: { seqid: 0, openStateid: op.stateid } }], { cache: true });
    if (r.status !== 0 || fh?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), dirWcc: NO_WCC };
    return { status: 0, obj: fh.object, objAttrs: this.attrs(r), dirWcc: NO_WCC };
  }

  private async createObj(label: string, dir: Buffer, name: string, objtype: { type: number; linkdata?: Buffer; devdata?: { specdata1: number; specdata2: number } }, attrs: Sattr3): Promise<DirCreateRes> {
    const r = await this.run(label, () => [
      putfh(dir),
      { op: Nfs4Op.CREATE, args: { objtype: objtype as never, objname: name, createattrs: fromSattr3(attrs, this.ids) } },
      GETFH,
      getattr(),
    ], { cache: true });
    const fh = resOf(r, Nfs4Op.GETFH);
    if (r.status !== 0 || fh?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), dirWcc: NO_WCC };
    return { status: 0, obj: fh.object, objAttrs: this.attrs(r), dirWcc: NO_WCC };
  }

  mkdir(dir: Buffer, name: string, attrs: Sattr3 = {}): Promise<DirCreateRes> {
    return this.createObj('mkdir', dir, name, { type: Ftype4.DIR }, attrs);
  }

  symlink(dir: Buffer, name: string, target: string | Buffer, attrs: Sattr3 = {}): Promise<DirCreateRes> {
    return this.createObj('symlink', dir, name, { type: Ftype4.LNK, linkdata: typeof target === 'string' ? Buffer.from(target) : target }, attrs);
  }

  async mknod(dir: Buffer, name: string, what: MknodData): Promise<DirCreateRes> {
    const attrs = 'attrs' in what ? what.attrs : {};
    if ((what.type === 3 || what.type === 4) && 'spec' in what) return this.createObj('mknod', dir, name, { type: what.type, devdata: what.spec }, attrs);
    if (what.type === 6 || what.type === 7) return this.createObj('mknod', dir, name, { type: what.type }, attrs);
    return { status: st3(Nfs4Stat.BADTYPE), dirWcc: NO_WCC };
  }

  /** REMOVE of a non-directory: NVERIFY stops the COMPOUND on a directory (SAME → ISDIR), as v3's REMOVE refuses one. */
  async remove(dir: Buffer, name: string): Promise<RemoveRes> {
    const r = await this.run('remove', () => [putfh(dir), { op: Nfs4Op.LOOKUP, args: { objname: name } }, { op: Nfs4Op.NVERIFY, args: { objAttributes: TYPE_DIR } }, putfh(dir), { op: Nfs4Op.REMOVE, args: { target: name } }], { cache: true });
    return { status: st3(r.status === Nfs4Stat.SAME ? Nfs4Stat.ISDIR : r.status), dirWcc: NO_WCC };
  }

  /** REMOVE of a directory: VERIFY stops the COMPOUND on anything else (NOT_SAME → NOTDIR), as v3's RMDIR refuses it. */
  async rmdir(dir: Buffer, name: string): Promise<RmdirRes> {
    const r = await this.run('rmdir', () => [putfh(dir), { op: Nfs4Op.LOOKUP, args: { objname: name } }, { op: Nfs4Op.VERIFY, args: { objAttributes: TYPE_DIR } }, putfh(dir), { op: Nfs4Op.REMOVE, args: { target: name } }], { cache: true });
    return { status: st3(r.status === Nfs4Stat.NOT_SAME ? Nfs4Stat.NOTDIR : r.status), dirWcc: NO_WCC };
  }

  async rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string): Promise<RenameRes> {
    const r = await this.run('rename', () => [putfh(fromDir), { op: Nfs4Op.SAVEFH, args: undefined }, putfh(toDir), { op: Nfs4Op.RENAME, args: { oldname: fromName, newname: toName } }], { cache: true });
    return { status: st3(r.status), fromDirWcc: NO_WCC, toDirWcc: NO_WCC };
  }

  async link(fh: Buffer, dir: Buffer, name: string): Promise<LinkRes> {
    const r = await this.run('link', () => [putfh(fh), { op: Nfs4Op.SAVEFH, args: undefined }, putfh(dir), { op: Nfs4Op.LINK, args: { newname: name } }], { cache: true });
    return { status: st3(r.status), fileAttrs: undefined, linkDirWcc: NO_WCC };
  }

  async readdirplus(fh: Buffer, cookie: number | bigint = 0n, cookieverf: Buffer = Buffer.alloc(8), dircount = 32768, maxcount = 131072): Promise<ReaddirplusRes> {
    const r = await this.run('readdir', () => [putfh(fh), { op: Nfs4Op.READDIR, args: { cookie: BigInt(cookie), cookieverf, dircount, maxcount: Math.min(maxcount, this.o.maxRead()), attrRequest: DIR_ATTRS } }]);
    const d = resOf(r, Nfs4Op.READDIR);
    if (d?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), dirAttrs: undefined };
    const entries = d.entries.map((e) => {
      const v = e.attrs.values;
      const ok = v.rdattrError === undefined || v.rdattrError === 0;
      return { name: e.name, cookie: e.cookie, fileid: v.fileid ?? 0n, attrs: ok && v.type !== undefined ? toFattr3(v, this.ids) : undefined, handle: v.filehandle };
    });
    return { status: 0, dirAttrs: undefined, cookieverf: d.cookieverf, entries, eof: d.eof };
  }

  async readdir(fh: Buffer, cookie: number | bigint = 0n, cookieverf: Buffer = Buffer.alloc(8), count = 32768): Promise<ReaddirRes> {
    const r = await this.run('readdir', () => [putfh(fh), { op: Nfs4Op.READDIR, args: { cookie: BigInt(cookie), cookieverf, dircount: count, maxcount: Math.min(count, this.o.maxRead()), attrRequest: bitmap4(Attr4.FILEID) } }]);
    const d = resOf(r, Nfs4Op.READDIR);
    if (d?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), dirAttrs: undefined };
    return { status: 0, dirAttrs: undefined, cookieverf: d.cookieverf, entries: d.entries.map((e) => ({ name: e.name, cookie: e.cookie, fileid: e.attrs.values.fileid ?? 0n })), eof: d.eof };
  }

  async fsstat(fh: Buffer): Promise<FsstatRes> {
    const r = await this.run('statfs', () => [putfh(fh), getattr(bitmap4(Attr4.FILES_AVAIL, Attr4.FILES_FREE, Attr4.FILES_TOTAL, Attr4.SPACE_AVAIL, Attr4.SPACE_FREE, Attr4.SPACE_TOTAL))]);
    const g = resOf(r, Nfs4Op.GETATTR);
    if (g?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), attrs: undefined };
    const v = g.attrs.values;
    return { status: 0, attrs: undefined, tbytes: v.spaceTotal ?? 0n, fbytes: v.spaceFree ?? 0n, abytes: v.spaceAvail ?? 0n, tfiles: v.filesTotal ?? 0n, ffiles: v.filesFree ?? 0n, afiles: v.filesAvail ?? 0n, invarsec: 0 };
  }

  /** FSINFO from the attributes and the session: READ and WRITE also fit what the session carries. */
  async fsinfo(fh: Buffer): Promise<FsinfoRes> {
    const r = await this.run('fsinfo', () => [putfh(fh), getattr(bitmap4(Attr4.MAXFILESIZE, Attr4.MAXREAD, Attr4.MAXWRITE, Attr4.TIME_DELTA))]);
    const g = resOf(r, Nfs4Op.GETATTR);
    if (g?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), attrs: undefined };
    const v = g.attrs.values;
    const cap = (attr: bigint | undefined, session: number) => Math.max(4096, Math.min(attr === undefined || attr === 0n ? session : Number(attr > BigInt(session) ? BigInt(session) : attr), session));
    const rtmax = cap(v.maxread, this.o.maxRead());
    const wtmax = cap(v.maxwrite, this.o.maxWrite());
    return {
      status: 0,
      attrs: undefined,
      rtmax,
      rtpref: rtmax,
      rtmult: 4096,
      wtmax,
      wtpref: wtmax,
      wtmult: 4096,
      dtpref: 32768,
      maxfilesize: v.maxfilesize ?? 0xffffffffffffffffn,
      timeDelta: { seconds: Number(v.timeDelta?.seconds ?? 0n), nseconds: v.timeDelta?.nseconds ?? 1 },
      properties: 0x1b, // FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME
    };
  }

  async pathconf(fh: Buffer): Promise<PathconfRes> {
    const r = await this.run('pathconf', () => [putfh(fh), getattr(bitmap4(Attr4.CASE_INSENSITIVE, Attr4.CASE_PRESERVING, Attr4.CHOWN_RESTRICTED, Attr4.MAXLINK, Attr4.MAXNAME, Attr4.NO_TRUNC))]);
    const g = resOf(r, Nfs4Op.GETATTR);
    if (g?.status !== 0) return { status: st3(r.status || Nfs4Stat.SERVERFAULT), attrs: undefined };
    const v = g.attrs.values;
    return { status: 0, attrs: undefined, linkmax: v.maxlink ?? 0, nameMax: v.maxname ?? 255, noTrunc: v.noTrunc ?? true, chownRestricted: v.chownRestricted ?? true, caseInsensitive: v.caseInsensitive ?? false, casePreserving: v.casePreserving ?? true };
  }
}

