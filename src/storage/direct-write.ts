/**
 * Direct writes: large, aligned writes go to the file with O_DIRECT instead of through the page
 * cache (what knfsd offers as NFSD_IO_DIRECT since Linux 6.18, for the same reasons).
 *
 * Why: a buffered write copies every byte into freshly allocated page-cache pages, and the COMMIT
 * that follows writes them all out again. On the bench VM (2 cores; the hypervisor takes back freed
 * guest memory, so new page-cache pages are often first touches) a 1 GiB buffered write took
 * 0.27–3.2 s plus 0.37–0.42 s of fsync, the same loop with O_DIRECT 0.56–0.71 s with nothing left
 * for the fsync (C, 1 MiB pwrites, alternating). In the server that copy was its largest CPU cost
 * (61% of its samples in `copy_folio_from_iter_atomic` while receiving WRITEs) on a machine whose
 * other core is the client's. A streaming writer's data is rarely read back through the same
 * server at once, and when it is the read goes to the disk instead of the cache — the trade knfsd
 * documents too.
 *
 * When: a write of at least `minBytes` whose offset and length are multiples of DIRECT_ALIGN, from
 * memory known to be aligned (bufpool.ts `alignedTo`: the RPC layer places WRITE payloads there).
 * Anything else — small writes, the unaligned tail of a file — goes through the page cache as
 * before; Linux keeps the two coherent (a direct write flushes and drops cached pages of its range).
 *
 * What stays the same: UNSTABLE still promises nothing before COMMIT, and COMMIT still fsyncs (for
 * the file's size and allocation, and the device's cache). Errors are reported by the write itself.
 *
 * Where it cannot work (a filesystem without O_DIRECT, no /proc to reopen through, a device needing
 * more alignment) it turns itself off for the backend and every write is buffered.
 */
import fs from 'node:fs';
import { alignedTo } from '../util/bufpool.js';
import { codeOf } from '../util/errno.js';
import type { FdEntry } from './posix-fdcache.js';
import { closeFd, openFd, pwrite } from './posix-util.js';

/** Offsets, lengths and memory of direct writes are multiples of this (covers 512- and 4096-byte sectors). */
export const DIRECT_ALIGN = 4096;
/** EINVALs from the filesystem in a row before direct writes are given up on. */
const MAX_REFUSALS = 8;

export class DirectWrites {
  /** Why direct writes are off for this backend, once they are. */
  off: string | undefined;
  private refusals = 0;
  /** writes/bytes: done directly; fallbacks: meant to be direct, written through the page cache. */
  readonly stats = { writes: 0, bytes: 0, fallbacks: 0 };

  /** `minBytes` 0 turns direct writes off. */
  constructor(readonly minBytes: number) {
    if (minBytes <= 0) this.off = 'turned off';
  }

  /** Whether `data` at `pos` is a write to make directly. */
  suits(data: Buffer, pos: number): boolean {
    return (
      this.off === undefined &&
      data.length >= this.minBytes &&
      pos % DIRECT_ALIGN === 0 &&
      data.length % DIRECT_ALIGN === 0 &&
      alignedTo(data, DIRECT_ALIGN)
    );
  }

  /**
   * Write `data` at `pos` through an O_DIRECT descriptor of the file `e` holds open. Returns how
   * many bytes it wrote — all, or fewer when the filesystem refused or cut a direct write short; the
   * caller writes the rest through the page cache. Other failures (EIO, ENOSPC …) are thrown.
   */
  async write(e: FdEntry, data: Buffer, pos: number): Promise<number> {
    const fd = await this.descriptor(e);
    if (fd === undefined) return 0;
    let done = 0;
    while (done < data.length) {
      let n: number;
      try {
        n = await pwrite(fd, data, done, data.length - done, pos + done);
      } catch (err) {
        if (codeOf(err) !== 'EINVAL') throw err;
        if (++this.refusals >= MAX_REFUSALS) this.off = 'the filesystem refuses aligned direct writes (EINVAL)';
        break;
      }
      this.refusals = 0;
      done += n;
      // A short direct write (ENOSPC on its way, a filesystem falling back) leaves the rest to the page cache.
      if (n === 0 || n % DIRECT_ALIGN !== 0) break;
    }
    if (done < data.length) this.stats.fallbacks++;
    if (done > 0) {
      this.stats.writes++;
      this.stats.bytes += done;
    }
    return done;
  }

  /**
   * The entry's O_DIRECT descriptor, opened on first use by reopening its open file through
   * /proc/self/fd — the same inode, whatever its name is now, with no path to race on.
   */
  private async descriptor(e: FdEntry): Promise<number | undefined> {
    if (e.direct !== undefined) return e.direct;
    let fd: number;
    try {
      fd = await openFd(`/proc/self/fd/${e.fd}`, fs.constants.O_WRONLY | fs.constants.O_DIRECT);
    } catch (err) {
      this.off = `cannot open files with O_DIRECT here (${codeOf(err) ?? String(err)})`;
      return undefined;
    }
    // Another write opened one meanwhile: keep that one. The entry closes whichever it holds.
    if (e.direct !== undefined) {
      void closeFd(fd);
      return e.direct;
    }
    e.direct = fd;
    return fd;
  }
}
