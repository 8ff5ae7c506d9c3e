/**
 * The narrow storage backend interface. NFS procedures never touch `fs`: they
 * talk to a Backend, so people can serve their own filesystems (like go-nfs's
 * billy.Filesystem or nfsserve's NFSFileSystem). Two backends ship: the POSIX
 * directory backend (default) and an in-memory backend.
 *
 * Contract, shared by every backend and checked by tests/unit/storage-conformance:
 * - Nodes are identified by a `key` (at most MAX_NODE_KEY bytes). `fromKey(key)`
 *   returns the same object again, across server restarts when
 *   `persistentKeys` is true; a key whose object is gone throws ESTALE.
 * - Names passed in are single path components: never "", ".", "..", and never
 *   containing "/" or NUL (the caller checks). A backend never follows a
 *   symbolic link on behalf of a client.
 * - Errors are thrown as Error objects with a Node-style errno `code`
 *   (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EACCES, EPERM, EROFS, ENOSPC,
 *   EDQUOT, EIO, EINVAL, ENAMETOOLONG, EXDEV, EMLINK, EFBIG, ESTALE, ENOTSUP,
 *   ELOOP, ...). Use `storageError(code, msg)`. Mapping to nfsstat3 happens in
 *   exactly one place above this layer.
 * - Permission checks are NOT done here; the export layer checks NFS
 *   permissions from attributes before calling. `owner` arguments say who must
 *   own a newly created object; a backend that cannot change ownership (POSIX
 *   backend running unprivileged) leaves the process's own ids.
 */

import type { ReplyTail } from '../rpc/program.js';

export const MAX_NODE_KEY = 32;

export type FileType = 'reg' | 'dir' | 'blk' | 'chr' | 'lnk' | 'sock' | 'fifo';

/** Seconds and nanoseconds since the Unix epoch. */
export interface Timestamp {
  sec: number;
  nsec: number;
}

export interface Attrs {
  type: FileType;
  /** Permission bits including setuid/setgid/sticky (mask 0o7777). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  /** Bytes of storage actually used. */
  used: bigint;
  rdev: { major: number; minor: number };
  /** Identifies the file system; the export layer may override it per export. */
  fsid: bigint;
  /** Unique per object within the backend (an inode number); never 0. */
  fileid: bigint;
  atime: Timestamp;
  mtime: Timestamp;
  ctime: Timestamp;
}

/** Who a created object should belong to (already squashed by the export layer). */
export interface Owner {
  uid: number;
  gid: number;
}

/** 'now' means the server's current time (SET_TO_SERVER_TIME). */
export interface SetAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  atime?: Timestamp | 'now';
  mtime?: Timestamp | 'now';
}

export type StableHow = 'unstable' | 'data_sync' | 'file_sync';

export interface WriteResult {
  /** Bytes written (all of them, or the call throws). */
  count: number;
  /** What was actually achieved: 'file_sync' only after a durable write. */
  committed: StableHow;
  /**
   * The data was taken but not yet written (write-behind.ts): the file's attributes after it are
   * not known yet, so the reply carries none. Every later access to the file sees the data.
   */
  queued?: boolean;
}

export interface ReadResult {
  bytesRead: number;
  eof: boolean;
}

/** Data a backend lends the caller (zero copy) until `release()` is called, exactly once. */
export interface LentRead {
  data: Buffer;
  eof: boolean;
  release(): void;
}

/**
 * READ data a backend has put in a kernel pipe (splice from the page cache) instead of in memory:
 * a reply tail (rpc ReplyTail: sent to the socket without a copy by the server, what a full socket
 * did not take copied out once) that knows its eof, and goes back with `release()`, exactly once.
 * Its length is at most the count asked for: fewer at end of file or when the pipe is full.
 */
export interface SplicedRead extends ReplyTail {
  readonly eof: boolean;
  release(): void;
}

export interface DirEntry {
  name: string;
  fileid: bigint;
  /** Unique per entry within the directory, never 0, stable while the entry exists. */
  cookie: bigint;
}

export interface DirPage {
  entries: DirEntry[];
  /** True when no entries exist after the last one returned. */
  eof: boolean;
}

/** A READDIRPLUS entry: the listing entry plus what LOOKUP and GETATTR would give. */
export interface DirPlusEntry extends DirEntry {
  node: Node;
  attrs: Attrs;
}

export interface DirPlusPage {
  entries: DirPlusEntry[];
  eof: boolean;
}

export interface FsStats {
  totalBytes: bigint;
  freeBytes: bigint;
  availBytes: bigint;
  totalFiles: bigint;
  freeFiles: bigint;
  availFiles: bigint;
}

/** A backend's handle on one object. Backends extend it with private fields. */
export interface Node {
  readonly key: Buffer;
  readonly fileid: bigint;
}

export interface CreateOptions {
  mode: number;
  owner: Owner;
  /** Fail with EEXIST if the name exists (GUARDED/EXCLUSIVE); otherwise open the existing regular file. */
  exclusive: boolean;
}

/** A real descriptor a same-host client may use directly (LOCALIO). */
export interface LocalFd {
  readonly fd: number;
  close(): Promise<void>;
}

export interface Backend {
  /** Short name for logs: "posix", "memory", ... */
  readonly kind: string;
  /** True when node keys survive a restart of the server process. */
  readonly persistentKeys: boolean;
  /** True when `openFd` can hand out real OS descriptors (LOCALIO). */
  readonly localFd: boolean;

  root(): Promise<Node>;
  /** Resolve a key produced by this backend (maybe by an earlier process). ESTALE if gone. */
  fromKey(key: Buffer): Promise<Node>;

  getattr(node: Node): Promise<Attrs>;
  setattr(node: Node, set: SetAttrs): Promise<Attrs>;

  /** Look a name up in a directory. Does not follow symlinks. */
  lookup(dir: Node, name: string): Promise<Node>;
  /** The parent of a directory; the root's parent is the root. */
  parent(dir: Node): Promise<Node>;

  readlink(node: Node): Promise<string>;
  /** Read into `into` (its length is the count) from `offset`. */
  read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult>;
  /**
   * Optional zero-copy read of up to `count` bytes into a buffer the backend
   * owns and lends until `release()` (e.g. the read-ahead's). Callers fall
   * back to `read` without it.
   */
  readLent?(node: Node, offset: bigint, count: number): Promise<LentRead>;
  /**
   * Optional zero-copy read of up to `count` bytes into a kernel pipe (see SplicedRead), or
   * undefined when it cannot be done now (no pipe free): callers then use `readLent` or `read`.
   */
  readSpliced?(node: Node, offset: bigint, count: number): Promise<SplicedRead | undefined>;
  /**
   * `keep`, when given, lets the backend own `data` beyond the call without copying it (write-behind
   * queues it): it returns the function to call once done with the bytes. Without it, `data` is
   * the caller's again when the call returns.
   */
  write(node: Node, offset: bigint, data: Buffer, stable: StableHow, keep?: () => () => void): Promise<WriteResult>;
  /** Make data durable (fsync). Throws (e.g. EIO) if it could not. count 0 = to end of file. */
  commit(node: Node, offset: bigint, count: number): Promise<void>;

  create(dir: Node, name: string, opts: CreateOptions): Promise<Node>;
  mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node>;
  symlink(dir: Node, name: string, target: string, mode: number, owner: Owner): Promise<Node>;
  /** Make a FIFO, socket, or (when permitted) a block/character device. ENOTSUP / EPERM where not possible. */
  mknod(
    dir: Node,
    name: string,
    type: 'blk' | 'chr' | 'sock' | 'fifo',
    mode: number,
    rdev: { major: number; minor: number },
    owner: Owner,
  ): Promise<Node>;
  remove(dir: Node, name: string): Promise<void>;
  rmdir(dir: Node, name: string): Promise<void>;
  /** Atomically rename, replacing an existing compatible target (POSIX rename(2) rules). */
  rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void>;
  link(node: Node, dir: Node, name: string): Promise<void>;

  /** Entries after `cookie` (0 = from the start), at most `limit`, without "." and "..". */
  readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage>;
  /**
   * Optional READDIRPLUS helper: the same page as `readdir`, each entry with
   * its node and attributes. Backends provide it when they get those almost
   * for free while listing (one lstat per entry instead of LOOKUP + GETATTR,
   * i.e. three). Callers fall back to readdir + lookup + getattr without it.
   */
  readdirPlus?(dir: Node, cookie: bigint, limit: number): Promise<DirPlusPage>;

  statfs(node: Node): Promise<FsStats>;

  // ---- Optional (NFSv4.2, RFC 7862; extended attributes, RFC 8276). Absent: the operation is
  // NOTSUPP. Each has a conformance test (tests/helpers/storage-suite.ts).

  /**
   * The first byte at or after `offset` that is data ('data') or in a hole ('hole'), as
   * lseek(SEEK_DATA / SEEK_HOLE): ENXIO when there is none (at or past the end of the file; the
   * end of the file counts as a hole).
   */
  seek?(node: Node, offset: bigint, what: 'data' | 'hole'): Promise<bigint>;
  /** Reserve space for [offset, offset + length) (fallocate), extending the file if need be. */
  allocate?(node: Node, offset: bigint, length: bigint): Promise<void>;
  /** Punch a hole in [offset, offset + length): reads give zeros there; the size does not change. */
  deallocate?(node: Node, offset: bigint, length: bigint): Promise<void>;
  /**
   * Copy `count` bytes (0: to the end of the source) from `src` at `srcOffset` to `dst` at
   * `dstOffset` inside the file system (copy_file_range); the bytes copied (fewer at the source's end).
   */
  copyRange?(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<bigint>;
  /**
   * Share the blocks of a range (reflink, FICLONERANGE; count 0: to the end of the source).
   * EOPNOTSUPP where the file system cannot, EXDEV across file systems, EINVAL for unaligned ranges.
   */
  clone?(src: Node, srcOffset: bigint, dst: Node, dstOffset: bigint, count: bigint): Promise<void>;
  /** Extended attributes: full names ("user.x"). getxattr/removexattr of a missing one: ENODATA. */
  getxattr?(node: Node, name: string): Promise<Buffer>;
  /** 'create' fails EEXIST when present, 'replace' ENODATA when absent. */
  setxattr?(node: Node, name: string, value: Buffer, how: 'either' | 'create' | 'replace'): Promise<void>;
  listxattr?(node: Node): Promise<string[]>;
  removexattr?(node: Node, name: string): Promise<void>;

  /**
   * Keep a regular file reachable by its node until the returned function is called, even after its
   * last name is removed (nlink 0), as an open descriptor does in POSIX: NFSv4 OPEN holds the file
   * it opened until CLOSE. Without it a removed file's node is ESTALE at once.
   */
  hold?(node: Node): Promise<() => void>;

  /** Open a real descriptor on a regular file (LOCALIO). Only when `localFd`. */
  openFd?(node: Node, mode: 'r' | 'rw'): Promise<LocalFd>;

  /** Release everything (caches, descriptors). */
  close(): Promise<void>;
}

export class StorageError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}

export function storageError(code: string, message: string): StorageError {
  return new StorageError(code, message);
}
