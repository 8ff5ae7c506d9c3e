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

  constructor(protected readonly inner: Backend) {
    this.kind = inner.kind;
    this.persistentKeys = inner.persistentKeys;
    this.localFd = inner.localFd;
    if (inner.readLent) this.readLent = inner.readLent.bind(inner);
    if (inner.readSpliced) this.readSpliced = inner.readSpliced.bind(inner);
    if (inner.readdirPlus) this.readdirPlus = inner.readdirPlus.bind(inner);
    if (inner.openFd) this.openFd = inner.openFd.bind(inner);
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
