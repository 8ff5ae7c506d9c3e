/**
 * The POSIX backend's NFSv4.2 calls (Backend's optional seek, allocate, deallocate, copyRange,
 * clone and extended attributes), on the descriptors the data path caches (posix-data.ts) and,
 * for extended attributes of any object, on the resolver's O_PATH references through
 * /proc/self/fd. The syscalls are the addon's (native/fsdata.c: lseek SEEK_DATA/SEEK_HOLE,
 * fallocate, copy_file_range, FICLONERANGE, *xattr); without it only copyRange (a read/write
 * loop) and seek (the whole file is data, its end the only hole: what RFC 7862 lets a server
 * without hole information answer) are offered. Every change ticks the change clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import { MAX_OFFSET, toStorageError } from './common.js';
import { pwrite } from './posix-util.js';
import type { PosixCore } from './posix-core.js';
import type { PosixData } from './posix-data.js';
import { storageError, type Node } from './types.js';
import { errnoError } from '../util/errno.js';

/** The addon's NFSv4.2 calls (native/fsdata.c). */
export interface V42Native {
  dataOp(op: number, fd: number, a: bigint, b: bigint, fd2: number, c: bigint): Promise<bigint>;
  xattr(op: number, fd: number, name?: string, value?: Uint8Array, flags?: number): Buffer | number;
}

const OP = { SEEK_DATA: 1, SEEK_HOLE: 2, ALLOCATE: 3, PUNCH: 4, COPY: 5, CLONE: 6 } as const;
const X = { GET: 1, SET: 2, LIST: 3, REMOVE: 4 } as const;
/** setxattr(2) flags. */
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** A negative xattr answer as an errno error (ENODATA for a missing attribute). */
function xattrResult<T>(r: T | number, call: string): T {
  if (typeof r !== 'number' || r >= 0) return r as T;
  const code = Object.entries(os.constants.errno).find(([, v]) => v === -r)?.[0] ?? 'EIO';
  throw errnoError(code === 'ENOATTR' ? 'ENODATA' : code, `${call}: ${code}`);
}

function checkRange(offset: bigint, length: bigint): void {
  if (offset < 0n || length < 0n || offset + length > MAX_OFFSET) throw storageError('EFBIG', 'range out of bounds');
}

export class PosixV42 {
  constructor(
    private readonly c: PosixCore,
    private readonly data: PosixData,
    private readonly native: V42Native | undefined,
  ) {}

  get hasNative(): boolean {
    return this.native !== undefined;
  }

  async seek(node: Node, offset: bigint, what: 'data' | 'hole'): Promise<bigint> {
    if (offset < 0n) throw storageError('EINVAL', 'negative offset');
    return this.data.withFd(node, false, async (fd) => {
      if (this.native) return this.native.dataOp(what === 'data' ? OP.SEEK_DATA : OP.SEEK_HOLE, fd, offset, 0n, 0, 0n);
      const size = BigInt(fs.fstatSync(fd).size);
      if (offset >= size) throw storageError('ENXIO', 'at or past the end of the file');
      return what === 'data' ? offset : size;
    });
  }

  allocate(node: Node, offset: bigint, length: bigint): Promise<void> {
    checkRange(offset, length);
    return this.c.changes.during(() => this.data.withFd(node, true, async (fd) => void (await this.native!.dataOp(OP.ALLOCATE, fd, offset, length, 0, 0n))));
  }

  deallocate(node: Node, offset: bigint, length: bigint): Promise<void> {
    checkRange(offset, length);
    return this.c.changes.during(() => this.data.withFd(node, true, async (fd) => void (await this.native!.dataOp(OP.PUNCH, fd, offset, length, 0, 0n))));
  }

  /** count 0: to the source's end. Without the addon, a read/write loop through a bounded buffer. */
  copyRange(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<bigint> {
    checkRange(dstOffset, count);
    return this.c.changes.during(() =>
      this.data.withFd(src, false, (sfd) =>
        this.data.withFd(dst, true, async (dfd) => {
          let n = count;
          if (n === 0n) {
            const size = BigInt(fs.fstatSync(sfd).size);
            n = size > srcOffset ? size - srcOffset : 0n;
          }
          if (this.native) return this.native.dataOp(OP.COPY, sfd, srcOffset, n, dfd, dstOffset);
          return copyLoop(sfd, srcOffset, dfd, dstOffset, n);
        }),
      ),
    );
  }

  clone(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<void> {
    checkRange(dstOffset, count);
    return this.c.changes.during(() =>
      this.data.withFd(src, false, (sfd) =>
        this.data.withFd(dst, true, async (dfd) => void (await this.native!.dataOp(OP.CLONE, sfd, srcOffset, count, dfd, dstOffset))),
      ),
    );
  }

  /** An extended-attribute call on the node's O_PATH reference (any type of object). */
  private async onRef<T>(node: Node, fn: (fd: number) => T): Promise<T> {
    this.c.ensureOpen();
    const n = this.c.asNode(node);
    return this.c.shared(async () => {
      const { ref, done } = await this.c.r.ref(n);
      try {
        return fn(ref.fd);
      } catch (e) {
        throw toStorageError(e);
      } finally {
        done();
      }
    });
  }

  getxattr(node: Node, name: string): Promise<Buffer> {
    return this.onRef(node, (fd) => xattrResult(this.native!.xattr(X.GET, fd, name), 'getxattr'));
  }

  listxattr(node: Node): Promise<string[]> {
    return this.onRef(node, (fd) => {
      const raw = xattrResult(this.native!.xattr(X.LIST, fd), 'listxattr');
      return raw.toString('utf8').split('\0').filter((s) => s.length > 0);
    });
  }

  setxattr(node: Node, name: string, value: Buffer, how: 'either' | 'create' | 'replace'): Promise<void> {
    const flags = how === 'create' ? XATTR_CREATE : how === 'replace' ? XATTR_REPLACE : 0;
    return this.c.changes.during(() => this.onRef(node, (fd) => void xattrResult(this.native!.xattr(X.SET, fd, name, value, flags), 'setxattr')));
  }

  removexattr(node: Node, name: string): Promise<void> {
    return this.c.changes.during(() => this.onRef(node, (fd) => void xattrResult(this.native!.xattr(X.REMOVE, fd, name), 'removexattr')));
  }
}

/** copy_file_range's work without it: read and write through one 1 MiB buffer; stops at the source's end. */
async function copyLoop(sfd: number, srcOffset: bigint, dfd: number, dstOffset: bigint, count: bigint): Promise<bigint> {
  const buf = Buffer.allocUnsafe(1 << 20);
  let done = 0n;
  while (done < count) {
    const want = Number(count - done < BigInt(buf.length) ? count - done : BigInt(buf.length));
    const got = await new Promise<number>((res, rej) => fs.read(sfd, buf, 0, want, Number(srcOffset + done), (e, n) => (e ? rej(e) : res(n))));
    if (got === 0) break;
    let w = 0;
    while (w < got) w += await pwrite(dfd, buf, w, got - w, Number(dstOffset + done) + w);
    done += BigInt(got);
  }
  return done;
}
