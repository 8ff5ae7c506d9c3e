/**
 * The POSIX backend's system calls, every one relative to a directory
 * descriptor and a single name (or to a descriptor of the object itself),
 * never to a path: no PATH_MAX wall however deep the tree, and nothing a local
 * process swaps in (a symlink for a directory) can make a call act outside the
 * directory the descriptor holds. Two implementations of one interface:
 *
 * - NativeAt, with the optional addon (native/fsat.c): openat2 with
 *   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, the *at family
 *   with AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH, getdents64 with inode numbers.
 * - ProcAt, without it: Node's fs on "/proc/self/fd/N/name". The kernel resolves
 *   /proc/self/fd/N to exactly the directory N holds (it cannot be swapped), then
 *   one name, not followed where the call has a no-follow form (lstat, lchown,
 *   O_NOFOLLOW opens; mkdir, unlink, rename, link never follow). It costs a few
 *   lookups in /proc per call and has no RESOLVE_* check; it needs /proc.
 *
 * Names are checked here too (one component: no "/", not "." or ".."), whatever
 * the caller checked. Errors are thrown errno-coded (StorageError-compatible).
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { assertName, NS_PER_SEC, toStorageError } from './common.js';
import { STAT_AT, makeSocket } from './posix-util.js';
import { storageError, type FsStats, type Timestamp } from './types.js';

/** The addon's storage calls (native/fsat.c), as src/localio/native.ts hands them over. */
export interface AtNative {
  fsAt(op: number, fd1: number, name1: string, fd2?: number, name2?: string, a?: number, b?: number, c?: number, d?: number): Promise<number>;
  fsAtSync(op: number, fd1: number, name1: string, fd2?: number, name2?: string, a?: number, b?: number, c?: number, d?: number): number;
  readdirAt(fd: number): Promise<{ names: string[]; inos: BigInt64Array }>;
  readlinkAt(fd: number, name: string): string | number;
  statfsAt(fd: number, out: BigInt64Array): number;
  statAt(dirFd: number, name: string, out: BigInt64Array): number;
  openat2Active(): boolean;
  readonly fsAtConst: Readonly<Record<string, number>>;
}

/** An object the backend acts on: a descriptor of it (O_PATH), and its directory and name there. */
export interface NodeRef {
  readonly fd: number;
  /** The parent's descriptor; for the export root, its own descriptor. */
  readonly dir: number;
  /** Its name in `dir`; '' for the export root. */
  readonly name: string;
  readonly isLink: boolean;
}

export type TimeSet = Timestamp | 'now' | undefined;

export interface At {
  readonly kind: 'native' | 'proc';
  /** How names are resolved, for start-up, status and metrics. */
  describe(): string;
  /** An O_PATH descriptor of `name` under dirFd (a symlink's own); throws errno-coded. */
  pathAt(dirFd: number, name: string, dirOnly: boolean): number;
  /** An O_PATH descriptor of the directory's "..". */
  parentOf(dirFd: number): number;
  /** statx into a STAT_AT array, not following: 0 or -errno. name '' = dirFd itself. */
  stat(dirFd: number, name: string, out: BigInt64Array): number;
  /** open(2) of one name, O_NOFOLLOW always added. */
  open(dirFd: number, name: string, flags: number, mode?: number): Promise<number>;
  mkdir(dirFd: number, name: string, mode: number): Promise<void>;
  mknod(dirFd: number, name: string, type: 'fifo' | 'sock' | 'chr' | 'blk', mode: number, rdev: { major: number; minor: number }): Promise<void>;
  symlink(dirFd: number, name: string, target: string): Promise<void>;
  /** A hard link to the object fromDir/fromName (a symlink itself, never its target). */
  link(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void>;
  rename(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void>;
  unlink(dirFd: number, name: string, dir: boolean): Promise<void>;
  chown(ref: NodeRef, uid: number, gid: number): Promise<void>;
  /** Never on a symlink (Linux has no mode on them). */
  chmod(ref: NodeRef, mode: number): Promise<void>;
  utimes(ref: NodeRef, atime: TimeSet, mtime: TimeSet): Promise<void>;
  readlink(ref: NodeRef): string;
  /** Names (and inode numbers where the listing gives them) without "." and "..". */
  readdir(dirFd: number): Promise<{ names: string[]; inos?: BigInt64Array }>;
  statfs(fd: number): Promise<FsStats>;
}

/** What stat may name: one component, the descriptor itself (''), or its parent (".."). */
function statName(name: string): boolean {
  return name === '' || name === '..' || (name !== '.' && !name.includes('/') && !name.includes('\0'));
}

const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));

/** Throw an errno-coded error for a negative errno, as fs would. */
export function throwErrno(neg: number, syscall: string): never {
  const code = ERRNO_NAMES.get(-neg) ?? 'EIO';
  throw Object.assign(storageError(code, `${syscall}: ${code}`), { errno: neg, syscall });
}

function check(r: number, syscall: string): number {
  if (r < 0) throwErrno(r, syscall);
  return r;
}

/** A time for utimensat: (sec, nsec), with nsec UTIME_NOW / UTIME_OMIT for 'now' / unchanged. */
function timeArgs(t: TimeSet, now: number, omit: number): [number, number] {
  if (t === undefined) return [0, omit];
  if (t === 'now') return [0, now];
  return [t.sec, t.nsec];
}

export class NativeAt implements At {
  readonly kind = 'native';
  private readonly K: Readonly<Record<string, number>>;

  constructor(private readonly n: AtNative) {
    this.K = n.fsAtConst;
  }

  describe(): string {
    return this.n.openat2Active()
      ? 'descriptor-relative (native openat2, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)'
      : 'descriptor-relative (native openat with O_NOFOLLOW: this kernel has no openat2)';
  }

  pathAt(dirFd: number, name: string, dirOnly: boolean): number {
    const flags = this.K.O_PATH | (dirOnly ? this.K.O_DIRECTORY : 0);
    return check(this.n.fsAtSync(this.K.OPEN, dirFd, name, undefined, undefined, flags), 'openat2');
  }

  parentOf(dirFd: number): number {
    return check(this.n.fsAtSync(this.K.PARENT, dirFd, ''), 'openat');
  }

  stat(dirFd: number, name: string, out: BigInt64Array): number {
    return statName(name) ? this.n.statAt(dirFd, name, out) : -os.constants.errno.EINVAL;
  }

  open(dirFd: number, name: string, flags: number, mode = 0): Promise<number> {
    return this.n.fsAt(this.K.OPEN, dirFd, name, undefined, undefined, flags, mode);
  }

  async mkdir(dirFd: number, name: string, mode: number): Promise<void> {
    await this.n.fsAt(this.K.MKDIR, dirFd, name, undefined, undefined, mode);
  }

  async mknod(dirFd: number, name: string, type: 'fifo' | 'sock' | 'chr' | 'blk', mode: number, rdev: { major: number; minor: number }): Promise<void> {
    const fmt = { fifo: fs.constants.S_IFIFO, sock: fs.constants.S_IFSOCK, chr: fs.constants.S_IFCHR, blk: fs.constants.S_IFBLK }[type];
    await this.n.fsAt(this.K.MKNOD, dirFd, name, undefined, undefined, fmt | (mode & 0o7777), rdev.major, rdev.minor);
  }

  async symlink(dirFd: number, name: string, target: string): Promise<void> {
    await this.n.fsAt(this.K.SYMLINK, dirFd, name, undefined, target);
  }

  async link(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void> {
    await this.n.fsAt(this.K.LINK, fromDir, fromName, toDir, toName);
  }

  async rename(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void> {
    await this.n.fsAt(this.K.RENAME, fromDir, fromName, toDir, toName, 0);
  }

  async unlink(dirFd: number, name: string, dir: boolean): Promise<void> {
    await this.n.fsAt(this.K.UNLINK, dirFd, name, undefined, undefined, dir ? this.K.AT_REMOVEDIR : 0);
  }

  async chown(ref: NodeRef, uid: number, gid: number): Promise<void> {
    await this.n.fsAt(this.K.CHOWN, ref.fd, '', undefined, undefined, uid, gid);
  }

  async chmod(ref: NodeRef, mode: number): Promise<void> {
    await this.n.fsAt(this.K.CHMOD, ref.fd, '', undefined, undefined, mode & 0o7777);
  }

  async utimes(ref: NodeRef, atime: TimeSet, mtime: TimeSet): Promise<void> {
    if (atime === undefined && mtime === undefined) return;
    const [as, an] = timeArgs(atime, this.K.UTIME_NOW, this.K.UTIME_OMIT);
    const [ms, mn] = timeArgs(mtime, this.K.UTIME_NOW, this.K.UTIME_OMIT);
    await this.n.fsAt(this.K.UTIMES, ref.fd, '', undefined, undefined, as, an, ms, mn);
  }

  readlink(ref: NodeRef): string {
    const r = this.n.readlinkAt(ref.fd, '');
    if (typeof r === 'number') throwErrno(r, 'readlinkat');
    return r;
  }

  readdir(dirFd: number): Promise<{ names: string[]; inos: BigInt64Array }> {
    return this.n.readdirAt(dirFd);
  }

  async statfs(fd: number): Promise<FsStats> {
    const o = new BigInt64Array(6);
    check(this.n.statfsAt(fd, o), 'fstatfs');
    return { totalBytes: o[1] * o[0], freeBytes: o[2] * o[0], availBytes: o[3] * o[0], totalFiles: o[4], freeFiles: o[5], availFiles: o[5] };
  }
}

const toNs = (t: Timestamp): bigint => BigInt(t.sec) * NS_PER_SEC + BigInt(t.nsec);

/** A time in ns as libuv will store it from a double of seconds (it truncates), and whether that is exact. */
function viaDouble(ns: bigint): { d: number; exact: boolean } {
  const sec = Number(ns / NS_PER_SEC);
  const nsec = Number(ns % NS_PER_SEC);
  const d = sec + nsec / 1e9;
  const s2 = Math.trunc(d);
  return { d, exact: ns >= 0n && s2 === sec && Math.trunc((d - s2) * 1e9) === nsec };
}

/** O_PATH (not in fs.constants): the same value on every Linux architecture Node runs on but alpha/parisc/sparc. */
const O_PATH = 0o10000000;
const C = fs.constants;

/** "/proc/self/fd/N/name" after checking name is one component; the descriptor itself for ''. */
function via(fd: number, name: string): string {
  if (name === '') return `/proc/self/fd/${fd}`;
  assertName(name);
  return `/proc/self/fd/${fd}/${name}`;
}

/** fs's BigIntStats into the STAT_AT layout NativeAt's statAt fills. */
function fillStat(st: fs.BigIntStats, o: BigInt64Array): void {
  const ns = (t: bigint, sec: number, nsec: number) => {
    o[sec] = t / NS_PER_SEC;
    o[nsec] = t % NS_PER_SEC;
  };
  o[STAT_AT.DEV] = st.dev;
  o[STAT_AT.INO] = st.ino;
  o[STAT_AT.MODE] = st.mode;
  o[STAT_AT.NLINK] = st.nlink;
  o[STAT_AT.UID] = st.uid;
  o[STAT_AT.GID] = st.gid;
  o[STAT_AT.RDEV] = st.rdev;
  o[STAT_AT.SIZE] = st.size;
  o[STAT_AT.BLOCKS] = st.blocks;
  ns(st.atimeNs, STAT_AT.ATIME_SEC, STAT_AT.ATIME_NSEC);
  ns(st.mtimeNs, STAT_AT.MTIME_SEC, STAT_AT.MTIME_NSEC);
  ns(st.ctimeNs, STAT_AT.CTIME_SEC, STAT_AT.CTIME_NSEC);
  ns(st.birthtimeNs, STAT_AT.BTIME_SEC, STAT_AT.BTIME_NSEC);
}

function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown }).errno;
  return typeof n === 'number' && n < 0 ? n : -os.constants.errno.EIO;
}

/**
 * A coreutils tool with one descriptor of ours as its fd 3, so its argument
 * "/proc/self/fd/3/..." means our directory (its own /proc/self is not ours).
 */
function runWithFd(tool: string, args: string[], fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe', fd], env: { LC_ALL: 'C' }, timeout: 10_000 });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (e) => reject(toStorageError(e)));
    child.on('close', (status) => {
      if (status === 0) return resolve();
      const code = /File exists/.test(stderr) ? 'EEXIST' : /Operation not permitted/.test(stderr) ? 'EPERM' : /Permission denied/.test(stderr) ? 'EACCES' : /No space/.test(stderr) ? 'ENOSPC' : 'EIO';
      reject(storageError(code, `${tool}: ${stderr.trim() || `exit ${status}`}`));
    });
  });
}

export class ProcAt implements At {
  readonly kind = 'proc';

  describe(): string {
    return 'descriptor-relative through /proc/self/fd (no native addon: no openat2 RESOLVE_BENEATH check, a few /proc lookups more per call)';
  }

  pathAt(dirFd: number, name: string, dirOnly: boolean): number {
    return fs.openSync(via(dirFd, name), O_PATH | C.O_NOFOLLOW | (dirOnly ? C.O_DIRECTORY : 0));
  }

  parentOf(dirFd: number): number {
    return fs.openSync(`/proc/self/fd/${dirFd}/..`, O_PATH | C.O_DIRECTORY);
  }

  stat(dirFd: number, name: string, out: BigInt64Array): number {
    if (!statName(name)) return -os.constants.errno.EINVAL;
    try {
      const st = name === '' ? fs.fstatSync(dirFd, { bigint: true }) : fs.lstatSync(`/proc/self/fd/${dirFd}/${name}`, { bigint: true });
      fillStat(st, out);
      return 0;
    } catch (e) {
      return errnoOf(e);
    }
  }

  open(dirFd: number, name: string, flags: number, mode = 0): Promise<number> {
    return new Promise((res, rej) => fs.open(via(dirFd, name), flags | C.O_NOFOLLOW, mode, (e, fd) => (e ? rej(e) : res(fd))));
  }

  async mkdir(dirFd: number, name: string, mode: number): Promise<void> {
    await fs.promises.mkdir(via(dirFd, name), mode);
  }

  async mknod(dirFd: number, name: string, type: 'fifo' | 'sock' | 'chr' | 'blk', mode: number, rdev: { major: number; minor: number }): Promise<void> {
    assertName(name);
    if (type === 'sock') return makeSocket(dirFd, name);
    const m = (mode & 0o7777).toString(8);
    const args = type === 'fifo' ? ['-m', m, '--', `/proc/self/fd/3/${name}`] : ['-m', m, '--', `/proc/self/fd/3/${name}`, type === 'chr' ? 'c' : 'b', String(rdev.major), String(rdev.minor)];
    await runWithFd(type === 'fifo' ? '/usr/bin/mkfifo' : '/usr/bin/mknod', args, dirFd);
  }

  async symlink(dirFd: number, name: string, target: string): Promise<void> {
    await fs.promises.symlink(target, via(dirFd, name));
  }

  async link(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void> {
    await fs.promises.link(via(fromDir, fromName), via(toDir, toName)); // link(2) does not follow a symlink source
  }

  async rename(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void> {
    await fs.promises.rename(via(fromDir, fromName), via(toDir, toName));
  }

  async unlink(dirFd: number, name: string, dir: boolean): Promise<void> {
    await (dir ? fs.promises.rmdir(via(dirFd, name)) : fs.promises.unlink(via(dirFd, name)));
  }

  async chown(ref: NodeRef, uid: number, gid: number): Promise<void> {
    // The /proc link of the object's own descriptor reaches exactly it; a symlink by its name, not followed.
    if (ref.isLink) await fs.promises.lchown(via(ref.dir, ref.name), uid, gid);
    else await fs.promises.chown(via(ref.fd, ''), uid, gid);
  }

  async chmod(ref: NodeRef, mode: number): Promise<void> {
    if (ref.isLink) throw storageError('EOPNOTSUPP', 'symbolic links have no mode');
    await fs.promises.chmod(via(ref.fd, ''), mode & 0o7777);
  }

  async utimes(ref: NodeRef, atime: TimeSet, mtime: TimeSet): Promise<void> {
    if (atime === undefined && mtime === undefined) return;
    // fs.utimes takes seconds as a double (~240 ns steps today) with no "leave unchanged": use it when
    // every time survives that, the untouched one read back first; else touch(1), exact, given our
    // descriptor as its fd 3 (-h: a symlink's own times, by its name).
    const cur = ref.isLink ? fs.lstatSync(via(ref.dir, ref.name), { bigint: true }) : fs.fstatSync(ref.fd, { bigint: true });
    const a = atime === undefined ? viaDouble(cur.atimeNs) : atime === 'now' ? { d: Date.now() / 1000, exact: true } : viaDouble(toNs(atime));
    const m = mtime === undefined ? viaDouble(cur.mtimeNs) : mtime === 'now' ? { d: Date.now() / 1000, exact: true } : viaDouble(toNs(mtime));
    if (a.exact && m.exact) {
      await (ref.isLink ? fs.promises.lutimes(via(ref.dir, ref.name), a.d, m.d) : fs.promises.utimes(via(ref.fd, ''), a.d, m.d));
      return;
    }
    const stamp = (t: Timestamp) => `@${t.sec}.${String(t.nsec).padStart(9, '0')}`;
    const target = ref.isLink ? `/proc/self/fd/3/${ref.name}` : '/proc/self/fd/3';
    const fd = ref.isLink ? ref.dir : ref.fd;
    if (ref.isLink) assertName(ref.name);
    const one = (flag: string[], t: Timestamp | 'now') => runWithFd('/usr/bin/touch', [...(ref.isLink ? ['-h'] : []), '-c', ...flag, ...(t === 'now' ? [] : ['-d', stamp(t)]), '--', target], fd);
    if (atime !== undefined && mtime !== undefined && JSON.stringify(atime) === JSON.stringify(mtime)) return one([], atime);
    if (atime !== undefined) await one(['-a'], atime);
    if (mtime !== undefined) await one(['-m'], mtime);
  }

  readlink(ref: NodeRef): string {
    return fs.readlinkSync(via(ref.dir, ref.name));
  }

  async readdir(dirFd: number): Promise<{ names: string[] }> {
    return { names: await fs.promises.readdir(via(dirFd, '')) };
  }

  async statfs(fd: number): Promise<FsStats> {
    const s = await fs.promises.statfs(via(fd, ''), { bigint: true });
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bfree * s.bsize, availBytes: s.bavail * s.bsize, totalFiles: s.files, freeFiles: s.ffree, availFiles: s.ffree };
  }
}

/** The native calls when the addon has them all, else the /proc fallback. */
export function makeAt(native: AtNative | undefined): At {
  return native !== undefined ? new NativeAt(native) : new ProcAt();
}
