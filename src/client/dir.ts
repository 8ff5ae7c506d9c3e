/**
 * Dir: a directory stream like fs.Dir, one READDIRPLUS page at a time, so a
 * directory of any size is listed in bounded memory. Servers without
 * READDIRPLUS (NFS3ERR_NOTSUPP) get READDIR. An entry that came without
 * attributes gets its type from GETATTR/LOOKUP, as Node does an lstat for a
 * DT_UNKNOWN entry.
 */
import { NFS3_COOKIEVERFSIZE, Nfs3Stat } from '../nfs3/constants.js';
import type { Fattr3 } from '../nfs3/types.js';
import { NfsError, nfsError } from './errors.js';
import type { NfsProcs } from './procs.js';
import { Dirent } from './stats.js';

export interface DirOptions {
  /** READDIRPLUS dircount (bytes of names and cookies per page). Default 32 KiB. */
  dircount?: number;
  /** READDIRPLUS maxcount (bytes of the whole reply). Default 128 KiB. */
  maxcount?: number;
  /** Fill in types the server did not send (default true). */
  types?: boolean;
}

export class Dir implements AsyncIterable<Dirent> {
  private buf: Dirent[] = [];
  private cookie = 0n;
  private verf: Buffer = Buffer.alloc(NFS3_COOKIEVERFSIZE);
  private eof = false;
  private closed = false;
  private plus = true;
  private readonly dircount: number;
  private readonly maxcount: number;
  private readonly types: boolean;

  /** @internal — use client.opendir(). */
  constructor(
    private readonly nfs: NfsProcs,
    /** The directory's NFS file handle. */
    readonly handle: Buffer,
    /** The path it was opened by. */
    readonly path: string,
    opts: DirOptions = {},
  ) {
    this.dircount = opts.dircount ?? 32 * 1024;
    this.maxcount = opts.maxcount ?? 128 * 1024;
    this.types = opts.types ?? true;
  }

  /** The next entry, or null at the end ('.' and '..' are skipped). */
  async read(): Promise<Dirent | null> {
    if (this.closed) throw Object.assign(new Error('Directory handle was closed'), { code: 'ERR_DIR_CLOSED' });
    while (this.buf.length === 0) {
      if (this.eof) return null;
      this.buf = await this.page();
    }
    return this.buf.shift()!;
  }

  /** The next page of entries (possibly empty), or null at the end. For bulk consumers. */
  async readPage(): Promise<Dirent[] | null> {
    if (this.closed) throw Object.assign(new Error('Directory handle was closed'), { code: 'ERR_DIR_CLOSED' });
    if (this.buf.length > 0) {
      const b = this.buf;
      this.buf = [];
      return b;
    }
    if (this.eof) return null;
    return this.page();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.buf = [];
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Dirent> {
    try {
      for (;;) {
        const d = await this.read();
        if (d === null) return;
        yield d;
      }
    } finally {
      await this.close();
    }
  }

  private async page(): Promise<Dirent[]> {
    let entries: Array<{ name: string; cookie: bigint; fileid: bigint; attrs?: Fattr3; handle?: Buffer }>;
    for (let empty = 0; ; empty++) {
      if (this.plus) {
        const res = await this.nfs.readdirplus(this.handle, this.cookie, this.verf, this.dircount, this.maxcount);
        if (res.status === Nfs3Stat.NOTSUPP) {
          this.plus = false;
          continue;
        }
        if (res.status !== 0) throw nfsError(res.status, 'scandir', this.path);
        this.verf = Buffer.from(res.cookieverf);
        this.eof = res.eof;
        entries = res.entries;
      } else {
        const res = await this.nfs.readdir(this.handle, this.cookie, this.verf, this.maxcount);
        if (res.status !== 0) throw nfsError(res.status, 'scandir', this.path);
        this.verf = Buffer.from(res.cookieverf);
        this.eof = res.eof;
        entries = res.entries;
      }
      if (entries.length > 0) this.cookie = entries[entries.length - 1].cookie;
      if (entries.length > 0 || this.eof) break;
      if (empty >= 3) throw new NfsError('EIO', { syscall: 'scandir', path: this.path, description: 'the server returned empty directory pages without EOF' });
    }
    const out: Dirent[] = [];
    const fill: Array<Promise<void>> = [];
    for (const e of entries) {
      if (e.name === '.' || e.name === '..') continue;
      const d = new Dirent(e.name, this.path, e.attrs?.type, { fileid: e.fileid, handle: e.handle, attrs: e.attrs });
      out.push(d);
      if (!e.attrs && this.types) fill.push(this.fillType(out.length - 1, out, e.name, e.handle));
    }
    await Promise.all(fill);
    return out;
  }

  private async fillType(i: number, out: Dirent[], name: string, handle: Buffer | undefined): Promise<void> {
    let attrs: Fattr3 | undefined;
    let fh = handle;
    if (fh) {
      const r = await this.nfs.getattr(fh);
      if (r.status === 0) attrs = r.attrs;
    }
    if (!attrs) {
      const r = await this.nfs.lookup(this.handle, name);
      if (r.status === 0) {
        fh = r.object;
        attrs = r.objAttrs;
        if (!attrs) {
          const g = await this.nfs.getattr(r.object);
          if (g.status === 0) attrs = g.attrs;
        }
      }
    }
    const old = out[i];
    out[i] = new Dirent(name, this.path, attrs?.type, { fileid: old.nfs.fileid, handle: fh, attrs });
  }
}
