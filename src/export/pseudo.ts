/**
 * The NFSv4 pseudo-filesystem (RFC 8881 section 7.3): a read-only tree of directories whose
 * leaves are the export paths, so that PUTROOTFH and LOOKUPs of each component reach the same
 * export a v3 MOUNT of that path reaches. It is a Backend like any other, served through the same
 * gate under an export of its own (ExportTable.pseudo), so its handles are minted and verified
 * exactly as every other handle. Nodes are named by their path: keys and fileids are hashes of
 * it, so handles stay valid across restarts while the path is still on the way to an export.
 * Everything that would change it is EROFS.
 */
import { createHash } from 'node:crypto';
import type { Attrs, Backend, DirPage, FsStats, Node, ReadResult, WriteResult } from '../storage/types.js';
import { storageError } from '../storage/types.js';
import { splitPath } from './path.js';

interface PseudoNode extends Node {
  readonly path: string;
  readonly parent: PseudoNode | undefined;
  /** Child names in order, with their cookies (index + 3: 0..2 are never cookies). */
  readonly children: Map<string, PseudoNode>;
}

function hashOf(path: string): Buffer {
  return createHash('sha256').update('nfs-localio pseudo\0').update(path).digest();
}

const rofs = (): never => {
  throw storageError('EROFS', 'the NFSv4 pseudo-filesystem is read-only');
};

export class PseudoFs implements Backend {
  readonly kind = 'pseudo';
  readonly persistentKeys = true;
  readonly localFd = false;
  private readonly byKey = new Map<string, PseudoNode>();
  private readonly byPath = new Map<string, PseudoNode>();
  private readonly rootNode: PseudoNode;
  /** When the tree was (re)built: its times. */
  private readonly born = { sec: Math.floor(Date.now() / 1000), nsec: 0 };

  /** `paths`: the normalised export paths. */
  constructor(paths: readonly string[]) {
    this.rootNode = this.make('/', undefined);
    for (const p of paths) {
      let at = this.rootNode;
      let sofar = '';
      for (const c of splitPath(p)) {
        sofar += '/' + c;
        let next = at.children.get(c);
        if (!next) {
          next = this.make(sofar, at);
          at.children.set(c, next);
        }
        at = next;
      }
    }
  }

  private make(path: string, parent: PseudoNode | undefined): PseudoNode {
    const h = hashOf(path);
    // 63 bits, never 0 (fileid 0 means "none" to some clients).
    const fileid = (h.readBigUInt64BE(8) & 0x7fffffffffffffffn) | 1n;
    const n: PseudoNode = { key: h.subarray(0, 12), fileid, path, parent, children: new Map() };
    this.byKey.set(n.key.toString('hex'), n);
    this.byPath.set(path, n);
    return n;
  }

  private node(n: Node): PseudoNode {
    const p = this.byKey.get(n.key.toString('hex'));
    if (!p) throw storageError('ESTALE', 'no longer on the way to an export');
    return p;
  }

  /** The path a pseudo node stands for ("/" for the root). */
  pathOf(n: Node): string {
    return this.node(n).path;
  }

  /** The node standing for `path`, if the tree has one. */
  nodeAt(path: string): Node | undefined {
    return this.byPath.get(path);
  }

  async root(): Promise<Node> {
    return this.rootNode;
  }

  async fromKey(key: Buffer): Promise<Node> {
    const n = this.byKey.get(key.toString('hex'));
    if (!n) throw storageError('ESTALE', 'no longer on the way to an export');
    return n;
  }

  async getattr(node: Node): Promise<Attrs> {
    const n = this.node(node);
    return {
      type: 'dir',
      mode: 0o555,
      nlink: 2 + n.children.size,
      uid: 0,
      gid: 0,
      size: 4096n,
      used: 0n,
      rdev: { major: 0, minor: 0 },
      fsid: 0n,
      fileid: n.fileid,
      atime: this.born,
      mtime: this.born,
      ctime: this.born,
    };
  }

  async lookup(dir: Node, name: string): Promise<Node> {
    const c = this.node(dir).children.get(name);
    if (!c) throw storageError('ENOENT', `${name}: not on the way to an export`);
    return c;
  }

  async parent(dir: Node): Promise<Node> {
    return this.node(dir).parent ?? this.rootNode;
  }

  async readdir(dir: Node, cookie: bigint, limit: number): Promise<DirPage> {
    const names = [...this.node(dir).children.values()];
    const from = cookie < 3n ? 0 : Number(cookie - 2n);
    const page = names.slice(from, from + limit);
    return {
      entries: page.map((n, i) => ({ name: n.path.slice(n.path.lastIndexOf('/') + 1), fileid: n.fileid, cookie: BigInt(from + i + 3) })),
      eof: from + page.length >= names.length,
    };
  }

  async statfs(): Promise<FsStats> {
    return { totalBytes: 0n, freeBytes: 0n, availBytes: 0n, totalFiles: 0n, freeFiles: 0n, availFiles: 0n };
  }

  async readlink(): Promise<string> {
    throw storageError('EINVAL', 'not a symbolic link');
  }

  async read(): Promise<ReadResult> {
    throw storageError('EISDIR', 'a directory');
  }

  async write(): Promise<WriteResult> {
    return rofs();
  }

  async commit(): Promise<void> {
    return rofs();
  }

  setattr = rofs;
  create = rofs;
  mkdir = rofs;
  symlink = rofs;
  mknod = rofs;
  remove = rofs;
  rmdir = rofs;
  rename = rofs;
  link = rofs;

  async close(): Promise<void> {}
}
