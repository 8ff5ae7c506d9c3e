/**
 * What the parts of the POSIX backend share (posix.ts composes them): the
 * resolver and its calls, the descriptor cache, the namespace lock, the change
 * clock, and the few rules every part applies the same way.
 */
import { toStorageError } from './common.js';
import { FdCache } from './posix-fdcache.js';
import { RwLock } from './rwlock.js';
import { PosixNode, type Resolver } from './posix-resolve.js';
import { type Stat } from './posix-dirs.js';
import { statAtToAttrs, STAT_AT } from './posix-util.js';
import { ChangeClock } from '../util/changes.js';
import { storageError, type Attrs, type Node } from './types.js';
import type { At } from './posix-at.js';

export class PosixCore {
  private readonly lock = new RwLock();
  /** Ticks on every modifying call: entries stat'ed ahead are used only if none came in since. */
  readonly changes = new ChangeClock();
  /** Directories whose cached listing must be dropped (posix-listing.ts registers itself). */
  onDirChanged: (dirIno: bigint) => void = () => undefined;
  closed = false;

  constructor(
    readonly r: Resolver,
    readonly at: At,
    readonly fds: FdCache,
    readonly fsid: bigint,
    /** Running as root: new objects get the caller's ids (chown), device nodes may be made. */
    readonly privileged: boolean,
  ) {}

  ensureOpen(): void {
    if (this.closed) throw storageError('EIO', 'backend closed');
  }

  asNode(node: Node): PosixNode {
    if (!(node instanceof PosixNode)) throw storageError('ESTALE', 'node from another backend');
    return node;
  }

  attrs(st: Stat): Attrs {
    return statAtToAttrs(st, this.fsid);
  }

  /** Run under the shared lock, mapping every failure to a StorageError. */
  async shared<T>(fn: () => Promise<T> | T): Promise<T> {
    this.ensureOpen();
    try {
      return await this.lock.shared(fn);
    } catch (e) {
      throw toStorageError(e);
    }
  }

  /** Run alone (rename, link: they move table entries other calls resolve through). */
  async exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    this.ensureOpen();
    try {
      return await this.lock.exclusive(fn);
    } catch (e) {
      throw toStorageError(e);
    }
  }

  /** The shared lock without mapping errors, for callers already inside a mapped call. */
  sharedRaw<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.lock.shared(fn);
  }

  /** A modifying call under the lock: it ticks the change clock as it starts and as it ends. */
  modifying<T>(exclusive: boolean, fn: () => Promise<T> | T): Promise<T> {
    return this.changes.during(() => (exclusive ? this.exclusive(fn) : this.shared(fn)));
  }

  /** Bookkeeping after (dir, name) → st stopped existing under that name. */
  gone(st: Stat, dirIno: bigint, name: string): void {
    const ino = st[STAT_AT.INO];
    if ((Number(st[STAT_AT.MODE]) & 0o170000) === 0o040000 || st[STAT_AT.NLINK] <= 1n) {
      this.fds.evict(ino);
      this.r.forget(ino);
      this.r.table.delete(ino);
      this.onDirChanged(ino);
    } else {
      // Other links remain, under names we may not know: a later use rescans.
      this.r.table.deleteIf(ino, dirIno, name);
      this.r.scanner.invalidate();
    }
  }
}
