/**
 * Pins: files kept reachable by their node after their last name is gone, as
 * an open descriptor keeps a file in POSIX. NFSv4's OPEN asks for this
 * (Backend.hold): a client that opened a file and sees it unlinked — by
 * itself or anyone — reads and writes it until CLOSE, and GETATTR says
 * numlinks 0; only then is its handle stale. (NFSv3 opens nothing, so an
 * unpinned file is stale the moment its last name goes.)
 *
 * A pin is one O_PATH descriptor per inode, counted: it holds the inode, its
 * fstat is the object's stat wherever (or whether) it is linked, and the data
 * path reopens it through /proc/self/fd when the name no longer leads to it.
 * The table is bounded by what pins it: the v4 state's bounded opens.
 */
import fs from 'node:fs';
import { storageError } from './types.js';
import type { Stat } from './posix-dirs.js';
import { openFd } from './posix-util.js';
import type { At } from './posix-at.js';

interface Pin {
  readonly fd: number;
  readonly gen: bigint;
  count: number;
}

export class Pins {
  private readonly byIno = new Map<bigint, Pin>();

  constructor(private readonly at: At) {}

  get size(): number {
    return this.byIno.size;
  }

  /** The pinned descriptor of (ino, gen), if pinned. */
  fd(ino: bigint, gen: bigint): number | undefined {
    const p = this.byIno.get(ino);
    return p !== undefined && p.gen === gen ? p.fd : undefined;
  }

  /** The pinned object's stat into `st`; false when (ino, gen) is not pinned. */
  stat(ino: bigint, gen: bigint, st: Stat): boolean {
    const fd = this.fd(ino, gen);
    if (fd === undefined) return false;
    const r = this.at.stat(fd, '', st);
    if (r !== 0) throw storageError('EIO', `fstat of a pinned file failed (${r})`);
    return true;
  }

  /**
   * Pin (ino, gen): `open` gives an O_PATH descriptor of it (already checked to
   * be that object), called only when it is not pinned yet. The returned
   * function lets go once; the descriptor closes with the last, and then
   * `unpinned` runs (the caller drops what it cached of the file).
   */
  async pin(ino: bigint, gen: bigint, open: () => Promise<number>, unpinned: () => void): Promise<() => void> {
    let p = this.byIno.get(ino);
    if (p === undefined || p.gen !== gen) {
      const fd = await open();
      // Another pin may have been made while opening: count on that one.
      p = this.byIno.get(ino);
      if (p !== undefined && p.gen === gen) fs.closeSync(fd);
      else {
        if (p !== undefined) throw storageError('ESTALE', 'inode reused while pinning');
        p = { fd, gen, count: 0 };
        this.byIno.set(ino, p);
      }
    }
    const pin = p;
    pin.count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--pin.count > 0 || this.byIno.get(ino) !== pin) return;
      this.byIno.delete(ino);
      fs.closeSync(pin.fd);
      unpinned();
    };
  }

  /** A descriptor of the pinned file opened for I/O, through its O_PATH descriptor (a magic link: /proc is needed). */
  reopen(fd: number, flags: number): Promise<number> {
    return openFd(`/proc/self/fd/${fd}`, flags);
  }

  closeAll(): void {
    for (const p of this.byIno.values()) fs.closeSync(p.fd);
    this.byIno.clear();
  }
}
