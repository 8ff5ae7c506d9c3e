/**
 * The POSIX backend's namespace calls: create, mkdir, symlink, mknod, remove,
 * rmdir, rename, link — each one name under a directory descriptor the
 * resolver holds (posix-at.ts makes the calls), so a tree of any depth works
 * and nothing a local process swaps in is followed.
 *
 * New objects are made private first (0600 / 0700) and given their owner and
 * mode through a descriptor of exactly that object before anyone else can use
 * them; if that fails they are removed again.
 */
import fs from 'node:fs';
import { assertName } from './common.js';
import { STAT_AT, closeFd } from './posix-util.js';
import { type PosixNode } from './posix-resolve.js';
import { isDir, isLnk, isReg, newStat, typeBits, type HeldDir, type Stat } from './posix-dirs.js';
import { throwErrno, type NodeRef } from './posix-at.js';
import type { PosixCore } from './posix-core.js';
import { storageError, type CreateOptions, type Node, type Owner } from './types.js';

const C = fs.constants;

export class PosixNames {
  constructor(private readonly c: PosixCore) {}

  /** Group a new object gets: the parent's on a setgid directory (as the kernel does), else the owner's. */
  private groupFor(dirSt: Stat, owner: Owner): number {
    return (Number(dirSt[STAT_AT.MODE]) & 0o2000) !== 0 ? Number(dirSt[STAT_AT.GID]) : owner.gid;
  }

  /** Hold the directory for a change in it; afterwards its new ctime is recorded as ours. */
  private async inDir<T>(dir: Node, exclusive: boolean, fn: (d: HeldDir) => Promise<T>): Promise<T> {
    const dn = this.c.asNode(dir);
    return this.c.modifying(exclusive, async () => {
      const d = await this.c.r.dir(dn);
      try {
        return await fn(d);
      } finally {
        this.c.r.touched(d);
        d.release();
      }
    });
  }

  /** The stat of `name` in d, or ENOENT. */
  private statIn(d: HeldDir, name: string): Stat {
    const st = newStat();
    const r = this.c.at.stat(d.fd, name, st);
    if (r !== 0) throwErrno(r, 'statx');
    return st;
  }

  /**
   * Give a new object at d/name its owner and mode through a descriptor of
   * exactly it, check it is still what `expect` says, and return its node;
   * on any failure remove it again.
   */
  private async finish(d: HeldDir, name: string, expect: (st: Stat) => boolean, owner: Owner | undefined, mode: number | undefined): Promise<PosixNode> {
    const { at, r } = this.c;
    let fd: number | undefined;
    let ours: bigint | undefined;
    try {
      fd = at.pathAt(d.fd, name, false);
      const st = newStat();
      if (at.stat(fd, '', st) !== 0 || !expect(st)) throw storageError('EEXIST', 'replaced meanwhile');
      ours = st[STAT_AT.INO];
      const ref: NodeRef = { fd, dir: d.fd, name, isLink: isLnk(st) };
      if (owner !== undefined && this.c.privileged) await at.chown(ref, owner.uid, this.groupFor(d.st, owner));
      if (mode !== undefined) await at.chmod(ref, mode);
      if (at.stat(fd, '', st) !== 0) throw storageError('ESTALE', 'vanished');
      return r.found(st, d.ino, name);
    } catch (e) {
      if (ours !== undefined) await this.undo(d, name, ours);
      throw e;
    } finally {
      if (fd !== undefined) await closeFd(fd);
    }
  }

  /** Remove d/name if it is still the object `ino` we made (never what someone put there since). */
  private async undo(d: HeldDir, name: string, ino: bigint): Promise<void> {
    const st = newStat();
    if (this.c.at.stat(d.fd, name, st) !== 0 || st[STAT_AT.INO] !== ino) return;
    await this.c.at.unlink(d.fd, name, isDir(st)).catch(() => undefined);
  }

  async create(dir: Node, name: string, opts: CreateOptions): Promise<Node> {
    assertName(name);
    const { at, r, fds } = this.c;
    return this.inDir(dir, false, async (d) => {
      for (let attempt = 0; ; attempt++) {
        let fd: number;
        try {
          fd = await at.open(d.fd, name, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NONBLOCK, 0o600);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || opts.exclusive) throw e;
          const st = newStat();
          if (at.stat(d.fd, name, st) !== 0 && attempt < 3) continue; // removed meanwhile: create again
          if (!isReg(st)) throw storageError('EEXIST', 'exists and is not a regular file');
          return r.found(st, d.ino, name);
        }
        this.c.onDirChanged(d.ino);
        try {
          const ref: NodeRef = { fd, dir: d.fd, name, isLink: false };
          if (this.c.privileged) await at.chown(ref, opts.owner.uid, this.groupFor(d.st, opts.owner));
          await at.chmod(ref, opts.mode & 0o7777);
          const st = newStat();
          if (at.stat(fd, '', st) !== 0) throw storageError('EIO', 'cannot stat the new file');
          const n = r.found(st, d.ino, name);
          // The client is about to WRITE: keep the descriptor instead of reopening.
          fds.release(fds.insert(fd, n.ino, n.gen, true));
          return n;
        } catch (e) {
          const st = newStat();
          const ino = at.stat(fd, '', st) === 0 ? st[STAT_AT.INO] : undefined;
          await closeFd(fd);
          if (ino !== undefined) await this.undo(d, name, ino);
          throw e;
        }
      }
    });
  }

  async mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node> {
    assertName(name);
    return this.inDir(dir, false, async (d) => {
      await this.c.at.mkdir(d.fd, name, 0o700); // private until owner and mode are right
      this.c.onDirChanged(d.ino);
      const sgid = (Number(d.st[STAT_AT.MODE]) & 0o2000) !== 0 ? 0o2000 : 0; // Linux keeps setgid on subdirectories
      return this.finish(d, name, isDir, owner, (mode & 0o7777) | sgid);
    });
  }

  async symlink(dir: Node, name: string, target: string, owner: Owner): Promise<Node> {
    assertName(name);
    if (target.includes('\0')) throw storageError('EINVAL', 'NUL in symlink target');
    return this.inDir(dir, false, async (d) => {
      await this.c.at.symlink(d.fd, name, target);
      this.c.onDirChanged(d.ino);
      return this.finish(d, name, isLnk, owner, undefined);
    });
  }

  async mknod(dir: Node, name: string, type: 'blk' | 'chr' | 'sock' | 'fifo', mode: number, rdev: { major: number; minor: number }, owner: Owner): Promise<Node> {
    assertName(name);
    if ((type === 'chr' || type === 'blk') && !this.c.privileged) throw storageError('EPERM', 'device nodes need root');
    const want = { fifo: 0o010000, sock: 0o140000, chr: 0o020000, blk: 0o060000 }[type];
    return this.inDir(dir, false, async (d) => {
      await this.c.at.mknod(d.fd, name, type, 0o600, rdev);
      this.c.onDirChanged(d.ino);
      return this.finish(d, name, (st) => typeBits(st) === want, owner, mode & 0o7777);
    });
  }

  async remove(dir: Node, name: string): Promise<void> {
    assertName(name);
    return this.inDir(dir, false, async (d) => {
      const st = this.statIn(d, name);
      if (isDir(st)) throw storageError('EISDIR', 'is a directory'); // what unlink(2) says on Linux
      await this.c.at.unlink(d.fd, name, false);
      this.c.onDirChanged(d.ino);
      this.c.gone(st, d.ino, name);
    });
  }

  async rmdir(dir: Node, name: string): Promise<void> {
    assertName(name);
    return this.inDir(dir, false, async (d) => {
      const st = this.statIn(d, name);
      if (!isDir(st)) throw storageError('ENOTDIR', 'not a directory');
      await this.c.at.unlink(d.fd, name, true);
      this.c.onDirChanged(d.ino);
      this.c.gone(st, d.ino, name);
    });
  }

  async rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    assertName(fromName);
    assertName(toName);
    const td = this.c.asNode(toDir);
    return this.inDir(fromDir, true, async (f) => {
      const t = await this.c.r.dir(td);
      try {
        const src = this.statIn(f, fromName);
        const dst = newStat();
        const had = this.c.at.stat(t.fd, toName, dst) === 0;
        if (had && dst[STAT_AT.INO] === src[STAT_AT.INO]) return; // same object: rename(2) does nothing
        await this.c.at.rename(f.fd, fromName, t.fd, toName);
        this.c.onDirChanged(f.ino);
        this.c.onDirChanged(t.ino);
        if (had) this.c.gone(dst, t.ino, toName);
        this.c.r.table.set(src[STAT_AT.INO], t.ino, toName);
      } finally {
        this.c.r.touched(t);
        t.release();
      }
    });
  }

  async link(node: Node, dir: Node, name: string): Promise<void> {
    assertName(name);
    const n = this.c.asNode(node);
    return this.inDir(dir, true, async (d) => {
      const p = await this.c.r.place(n);
      try {
        if (isDir(p.st) || p.name === '') throw storageError('EPERM', 'hard link to a directory');
        await this.c.at.link(p.dir.fd, p.name, d.fd, name); // the object itself, a symlink included
        this.c.onDirChanged(d.ino);
        const made = newStat();
        if (this.c.at.stat(d.fd, name, made) === 0 && made[STAT_AT.INO] !== n.ino) {
          // The source name was swapped meanwhile: undo, the client's object was not linked.
          await this.c.at.unlink(d.fd, name, isDir(made)).catch(() => undefined);
          throw storageError('ESTALE', 'changed while linking');
        }
      } finally {
        this.c.r.touched(p.dir);
        p.dir.release();
      }
    });
  }
}
