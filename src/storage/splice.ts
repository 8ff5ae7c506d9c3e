/**
 * Zero-copy READ data: a file range spliced into a kernel pipe, sent from there to the socket.
 *
 * Why: a READ reply used to cost two copies of its data in the server — pread from the page cache
 * into our buffer, then the socket write from that buffer into the kernel — and on the bench VM the
 * first of them was the server's largest cost (46% of its samples in `_copy_to_iter`). splice(2)
 * moves page references instead: file → pipe (the pipe now holds references to the cached pages),
 * pipe → TCP socket (the pages become the segment's fragments), and the only copy left is the
 * client's own receive. knfsd answers READ the same way. Measured with `nfs-cat` of a cached 1 GiB
 * file, alternating, 6 each (a prototype of this path): 0.40 s vs 0.55 s with the copies, server
 * CPU 230 ms vs 555 ms.
 *
 * The system calls are the optional native addon's (native/fdpass.c: pipeOpen, spliceIn on the
 * thread pool since the file side may wait for the disk, spliceOut on the event loop since the
 * socket side never waits); the server injects them, as it does statAt.
 *
 * Bounded: at most `max` pipes exist; when all are in use a read is simply not spliced (the caller
 * falls back to a buffer). A pipe is reused only once it is known empty — a pipe with bytes left
 * in it (a connection gone mid-reply) is closed, so no reply can carry another's data.
 */
import fs from 'node:fs';
import { storageError, type SplicedRead } from './types.js';

/** The addon's splice calls (src/localio/native.ts FdPassNative has the full contracts). */
export interface SpliceNative {
  pipeOpen(capacity: number): number[];
  spliceIn(fd: number, position: number, count: number, pipeWriteFd: number): Promise<{ bytes: number; size: number }>;
  spliceOut(socketFd: number, head: Uint8Array, pipeReadFd: number, count: number, trailer: Uint8Array): number;
}

interface Pipe {
  readonly r: number;
  readonly w: number;
}

export class PipePool {
  private readonly free: Pipe[] = [];
  private inUse = 0;
  private closed = false;
  /** Why pipes cannot be had (then readSpliced is never used), once known. */
  off: string | undefined;

  /** Pipes of at least `capacity` bytes (a READ's largest count), at most `max` of them. */
  constructor(
    readonly native: SpliceNative,
    readonly capacity: number,
    private readonly max = 32,
  ) {}

  /** A pipe, empty; undefined when all `max` are in use or pipes that large cannot be had. */
  acquire(): Pipe | undefined {
    if (this.off !== undefined || this.closed) return undefined;
    let p = this.free.pop();
    if (p === undefined) {
      if (this.inUse >= this.max) return undefined;
      let r: number, w: number, got: number;
      try {
        [r, w, got] = this.native.pipeOpen(this.capacity);
      } catch (e) {
        this.off = `cannot make pipes (${(e as Error).message})`;
        return undefined;
      }
      if (got < this.capacity) {
        // fs.pipe-max-size, or the user's pipe-user-pages-soft spent: a small pipe would cut every READ short.
        fs.closeSync(r);
        fs.closeSync(w);
        this.off = `pipes are limited to ${got} bytes here, READs need ${this.capacity}`;
        return undefined;
      }
      p = { r, w };
    }
    this.inUse++;
    return p;
  }

  /** Give a pipe back: reused when `empty`, else closed. */
  release(p: Pipe, empty: boolean): void {
    this.inUse--;
    if (empty && !this.closed) this.free.push(p);
    else close(p);
  }

  /** Close the idle pipes; those in use are closed when released. */
  close(): void {
    this.closed = true;
    for (const p of this.free.splice(0)) close(p);
  }
}

function close(p: Pipe): void {
  fs.close(p.r, () => {});
  fs.close(p.w, () => {});
}

/**
 * Splice up to `count` bytes of the open file `fd` from `position` into a pipe from `pool`;
 * undefined when no pipe is free. Errors (EIO …) are thrown errno-coded, the pipe given back.
 */
export async function spliceRead(pool: PipePool, fd: number, position: number, count: number): Promise<SplicedRead | undefined> {
  const pipe = pool.acquire();
  if (pipe === undefined) return undefined;
  let got: { bytes: number; size: number };
  try {
    got = await pool.native.spliceIn(fd, position, count, pipe.w);
  } catch (e) {
    // Whatever reached the pipe before the failure stays there: not reused.
    pool.release(pipe, false);
    throw e;
  }
  return new PipeRead(pool, pipe, got.bytes, position + got.bytes >= got.size);
}

class PipeRead implements SplicedRead {
  /** Bytes still in the pipe. */
  private left: number;
  private released = false;

  constructor(
    private readonly pool: PipePool,
    private readonly pipe: Pipe,
    readonly length: number,
    readonly eof: boolean,
  ) {
    this.left = length;
  }

  sendTo(fd: number, head: Uint8Array, trailer: Uint8Array): number {
    const sent = this.pool.native.spliceOut(fd, head, this.pipe.r, this.left, trailer);
    this.left -= Math.min(this.left, Math.max(0, sent - head.length));
    return sent;
  }

  copyRest(into: Buffer, at: number): number {
    let n = 0;
    while (n < this.left) {
      // The bytes are in the pipe already, so this read never finds it empty.
      const k = fs.readSync(this.pipe.r, into, at + n, this.left - n, null);
      if (k === 0) throw storageError('EIO', `pipe ended ${this.left - n} bytes early`);
      n += k;
    }
    this.left = 0;
    return n;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.pipe, this.left === 0);
  }
}
