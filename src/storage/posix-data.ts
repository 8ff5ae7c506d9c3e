/**
 * The POSIX backend's data path: READ, WRITE, COMMIT and LOCALIO's descriptors,
 * on cached descriptors of regular files (posix-fdcache.ts). A file is opened
 * by its name under its directory's descriptor (O_NOFOLLOW | O_NONBLOCK: never a
 * symlink, never hanging on a FIFO swapped in), after its stat says it is a
 * regular file, and the descriptor's own stat must then be the node's.
 */
import fs from 'node:fs';
import { MAX_OFFSET, toStorageError } from './common.js';
import { FlushBehind } from './flush-behind.js';
import { DirectWrites } from './direct-write.js';
import { PipePool, spliceRead, type SpliceNative } from './splice.js';
import { closeFd, preadv, pwrite } from './posix-util.js';
import { type PosixNode } from './posix-resolve.js';
import { isDir, isReg, newStat } from './posix-dirs.js';
import type { FdEntry } from './posix-fdcache.js';
import type { PosixCore } from './posix-core.js';
import { storageError, type LocalFd, type Node, type ReadResult, type SplicedRead, type StableHow, type WriteResult } from './types.js';

const C = fs.constants;
const OPEN_FLAGS = C.O_NONBLOCK; // O_NOFOLLOW is always added by At.open

/** A file's identity for flush-behind: inode and generation. */
function flushKey(n: PosixNode): string {
  return `${n.ino}:${n.gen}`;
}

export function fsyncFd(fd: number, dataOnly: boolean): Promise<void> {
  return new Promise((res, rej) => (dataOnly ? fs.fdatasync : fs.fsync)(fd, (e) => (e ? rej(e) : res())));
}

export interface PosixDataOptions {
  flushBehindBytes: number;
  directWriteBytes: number;
  splice?: SpliceNative;
  spliceBytes: number;
}

export class PosixData {
  readonly flusher: FlushBehind;
  readonly direct: DirectWrites;
  /** Pipes for readSpliced; undefined without the native splice calls. */
  readonly pipes: PipePool | undefined;
  /** Reads spliced, and their bytes (tests, diagnostics). */
  readonly spliceStats = { reads: 0, bytes: 0 };
  private readonly probe = Buffer.alloc(1);

  constructor(
    private readonly c: PosixCore,
    o: PosixDataOptions,
  ) {
    this.flusher = new FlushBehind(o.flushBehindBytes);
    this.direct = new DirectWrites(o.directWriteBytes);
    if (o.splice !== undefined) this.pipes = new PipePool(o.splice, o.spliceBytes);
  }

  /**
   * A referenced cache entry for the node's descriptor, opening one if needed.
   * Callers already holding the namespace lock say `locked` (a waiting writer
   * would deadlock against them otherwise).
   */
  async fdFor(n: PosixNode, write: boolean, locked = false, exact = false): Promise<FdEntry> {
    const { fds, r, at } = this.c;
    const cached = fds.acquire(n.ino, n.gen, write, exact);
    if (cached !== undefined) return cached;
    const open = async () => {
      const pinned = r.pins.fd(n.ino, n.gen);
      if (pinned !== undefined) return r.pins.reopen(pinned, (write ? C.O_RDWR : C.O_RDONLY) | OPEN_FLAGS);
      const p = await r.place(n);
      try {
        if (isDir(p.st)) throw storageError('EISDIR', 'is a directory');
        if (!isReg(p.st)) throw storageError('EINVAL', 'not a regular file');
        return await at.open(p.dir.fd, p.name, (write ? C.O_RDWR : C.O_RDONLY) | OPEN_FLAGS);
      } finally {
        p.dir.release();
      }
    };
    const fd = locked ? await open() : await this.c.sharedRaw(open);
    const st = newStat();
    if (at.stat(fd, '', st) !== 0 || !r.matches(n, st) || !isReg(st)) {
      await closeFd(fd);
      throw storageError('ESTALE', 'file changed while opening');
    }
    return fds.insert(fd, n.ino, n.gen, write);
  }

  /** Run `fn` on a cached descriptor; every failure comes out as a storage error; the descriptor always goes back. */
  async withFd<T>(node: Node, write: boolean, fn: (fd: number, e: FdEntry) => Promise<T>): Promise<T> {
    this.c.ensureOpen();
    const n = this.c.asNode(node);
    let e: FdEntry;
    try {
      e = await this.fdFor(n, write);
    } catch (err) {
      throw toStorageError(err);
    }
    try {
      return await fn(e.fd, e);
    } catch (err) {
      throw toStorageError(err);
    } finally {
      this.c.fds.release(e);
    }
  }

  async read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    return this.withFd(node, false, async (fd) => {
      if (offset > MAX_OFFSET) return { bytesRead: 0, eof: true };
      // One extra probe byte tells whether anything lies past the range: eof costs no fstat.
      const got = await preadv(fd, [into, this.probe], Number(offset));
      return got > into.length ? { bytesRead: into.length, eof: false } : { bytesRead: got, eof: true };
    });
  }

  /** readSpliced: the range into a pipe (splice.ts); undefined for what a pipe cannot take now. */
  async spliced(node: Node, offset: bigint, count: number): Promise<SplicedRead | undefined> {
    const pipes = this.pipes!;
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    if (offset > MAX_OFFSET || count > pipes.capacity || pipes.off !== undefined) return undefined;
    const s = await this.withFd(node, false, (fd) => spliceRead(pipes, fd, Number(offset), count));
    if (s !== undefined) {
      this.spliceStats.reads++;
      this.spliceStats.bytes += s.length;
    }
    return s;
  }

  async write(node: Node, offset: bigint, data: Buffer, stable: StableHow): Promise<WriteResult> {
    if (offset < 0n || offset + BigInt(data.length) > MAX_OFFSET) throw storageError('EFBIG', 'offset out of range');
    const n = this.c.asNode(node);
    return this.c.changes.during(() =>
      this.withFd(n, true, async (fd, e) => {
        const pos = Number(offset);
        // Large aligned pieces skip the page cache; whatever that leaves is written through it.
        const direct = this.direct.suits(data, pos) ? await this.direct.write(e, data, pos) : 0;
        let done = direct;
        while (done < data.length) {
          const w = await pwrite(fd, data, done, data.length - done, pos + done);
          if (w === 0) throw storageError('EIO', 'short write');
          done += w;
        }
        if (stable !== 'unstable') await fsyncFd(fd, stable === 'data_sync');
        else if (done > direct) this.flusher.wrote(flushKey(n), done - direct, () => this.withFd(n, true, (f) => fsyncFd(f, true)));
        return { count: data.length, committed: stable };
      }),
    );
  }

  async commit(node: Node): Promise<void> {
    const n = this.c.asNode(node);
    // A background flush may have consumed a writeback error: it is this COMMIT's to report.
    await this.flusher.beforeCommit(flushKey(n));
    // Prefer the descriptor that did the writes; a fresh one still reports a
    // writeback error nobody has seen yet (Linux errseq semantics).
    return this.withFd(n, false, (fd) => fsyncFd(fd, false));
  }

  /**
   * LOCALIO: a reference on the cached descriptor of exactly that mode (a
   * client that may only read must never get a read-write descriptor).
   */
  async openFd(node: Node, mode: 'r' | 'rw'): Promise<LocalFd> {
    this.c.ensureOpen();
    const n = this.c.asNode(node);
    let e: FdEntry;
    try {
      e = await this.fdFor(n, mode === 'rw', false, true);
    } catch (err) {
      throw toStorageError(err);
    }
    let closed = false;
    return {
      fd: e.fd,
      close: async () => {
        if (closed) return;
        closed = true;
        this.c.fds.release(e);
      },
    };
  }
}
