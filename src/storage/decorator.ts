import type {
  Attrs,
  Backend,
  CreateOptions,
  DirPage,
  DirPlusPage,
  FsStats,
  LentRead,
  LocalFd,
  Node,
  Owner,
  ReadResult,
  SetAttrs,
  SplicedRead,
  StableHow,
  WriteResult,
} from './types.js';

/**
 * A backend in front of another that passes every call through: the base of the decorators the
 * server stacks on the POSIX backend (read-ahead, write-behind), which override only what they change.
 *
 * The optional calls are present exactly when the inner backend has them (callers test for them).
 * They are instance properties, so a decorator changes one by wrapping it in its constructor, after
 * `super()` — never by redeclaring the field (that would reset it).
 */
export abstract class BackendDecorator implements Backend {
  readonly kind: string;
  readonly persistentKeys: boolean;
  readonly localFd: boolean;
  readLent?: (node: Node, offset: bigint, count: number) => Promise<LentRead>;
  readSpliced?: (node: Node, offset: bigint, count: number) => Promise<SplicedRead | undefined>;
  readdirPlus?: (dir: Node, cookie: bigint, limit: number) => Promise<DirPlusPage>;
  openFd?: (node: Node, mode: 'r' | 'rw') => Promise<LocalFd>;
  hold?: Backend['hold'];
  seek?: Backend['seek'];
  allocate?: Backend['allocate'];
  deallocate?: Backend['deallocate'];
  copyRange?: Backend['copyRange'];
  clone?: Backend['clone'];
  getxattr?: Backend['getxattr'];
  setxattr?: Backend['setxattr'];
  listxattr?: Backend['listxattr'];
  removexattr?: Backend['removexattr'];

  constructor(protected readonly inner: Backend) {
    this.kind = inner.kind;
    this.persistentKeys = inner.persistentKeys;
    this.localFd = inner.localFd;
    if (inner.readLent) this.readLent = inner.readLent.bind(inner);
    if (inner.readSpliced) this.readSpliced = inner.readSpliced.bind(inner);
    if (inner.readdirPlus) this.readdirPlus = inner.readdirPlus.bind(inner);
    if (inner.openFd) this.openFd = inner.openFd.bind(inner);
    if (inner.hold) this.hold = inner.hold.bind(inner);
    if (inner.seek) this.seek = inner.seek.bind(inner);
    if (inner.allocate) this.allocate = inner.allocate.bind(inner);
    if (inner.deallocate) this.deallocate = inner.deallocate.bind(inner);
    if (inner.copyRange) this.copyRange = inner.copyRange.bind(inner);
    if (inner.clone) this.clone = inner.clone.bind(inner);
    if (inner.getxattr) this.getxattr = inner.getxattr.bind(inner);
    if (inner.setxattr) this.setxattr = inner.setxattr.bind(inner);
    if (inner.listxattr) this.listxattr = inner.listxattr.bind(inner);
    if (inner.removexattr) this.removexattr = inner.removexattr.bind(inner);
  }

  /**
   * For decorators that hold data of files (read-ahead, write-behind): the NFSv4.2 calls that see
   * or change a file's data (seek, allocate, deallocate, copyRange, clone) run `around` the files
   * they touch first — `changes` says whether the call changes that file's data.
   */
  protected guardData(around: (node: Node, changes: boolean) => Promise<void> | void): void {
    const { seek, allocate, deallocate, copyRange, clone } = this;
    if (seek) this.seek = async (n, o, w) => (await around(n, false), seek(n, o, w));
    if (allocate) this.allocate = async (n, o, l) => (await around(n, true), allocate(n, o, l));
    if (deallocate) this.deallocate = async (n, o, l) => (await around(n, true), deallocate(n, o, l));
    if (copyRange) this.copyRange = async (s, so, d, dof, c) => (await around(s, false), await around(d, true), copyRange(s, so, d, dof, c));
    if (clone) this.clone = async (s, so, d, dof, c) => (await around(s, false), await around(d, true), clone(s, so, d, dof, c));
  }

  root(): Promise<Node> {
    return this.inner.root();
  }
  fromKey(key: Buffer): Promise<Node> {
    return this.inner.fromKey(key);
  }
  getattr(node: Node): Promise<Attrs> {
    return this.inner.getattr(node);
  }
  setattr(node: Node, set: SetAttrs): Promise<Attrs> {
    return this.inner.setattr(node, set);
  }
  lookup(dir: Node, name: string): Promise<Node> {
    return this.inner.lookup(dir, name);
  }
  parent(dir: Node): Promise<Node> {
    return this.inner.parent(dir);
  }
  readlink(node: Node): Promise<string> {
    return this.inner.readlink(node);
  }
  read(node: Node, offset: bigint, into: Buffer): Promise<ReadResult> {
    return this.inner.read(node, offset, into);
  }
  write(node: Node, offset: bigint, data: Buffer, stable: StableHow, keep?: () => () => void): Promise<WriteResult> {
    return this.inner.write(node, offset, data, stable, keep);
  }
  commit(node: Node, offset: bigint, count: number): Promise<void> {
    return this.inner.commit(node, offset, count);
  }
  create(dir: Node, name: string, opts: CreateOptions): Promise<Node> {
    return this.inner.create(dir, name, opts);
  }
  mkdir(dir: Node, name: string, mode: number, owner: Owner): Promise<Node> {
    return this.inner.mkdir(dir, name, mode, owner);
  }
  symlink(dir: Node, name: string, target: string, mode: number, owner: Owner): Promise<Node> {
    return this.inner.symlink(dir, name, target, mode, owner);
  }
  mknod(dir: Node, name: string, type: 'blk' | 'chr' | 'sock' | 'fifo', mode: number, rdev: { major: number; minor: number }, owner: Owner): Promise<Node> {
    return this.inner.mknod(dir, name, type, mode, rdev, owner);
  }
  remove(dir: Node, name: string): Promise<void> {
    return this.inner.remove(dir, name);
  }
  rmdir(dir: Node, name: string): Promise<void> {
    return this.inner.rmdir(dir, name);
  }
  rename(fromDir: Node, fromName: string, toDir: Node, toName: string): Promise<void> {
    return this.inner.rename(fromDir, fromName, toDir, toName);
  }
  link(node: Node, dir: Node, name: string): Promise<void> {
    return this.inner.link(node, dir, name);
  }
  readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    return this.inner.readdir(dir, cookie, limit);
  }
  statfs(node: Node): Promise<FsStats> {
    return this.inner.statfs(node);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
