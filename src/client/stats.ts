/**
 * fs.Stats / fs.Dirent / fs.StatFs look-alikes built from NFSv3 attributes,
 * so code written against `fs.promises` reads them unchanged.
 */
import { constants as C } from 'node:fs';
import { Ftype3 } from '../nfs3/constants.js';
import type { Fattr3, Nfstime3 } from '../nfs3/types.js';

const TYPE_BITS: Record<number, number> = {
  [Ftype3.REG]: C.S_IFREG,
  [Ftype3.DIR]: C.S_IFDIR,
  [Ftype3.BLK]: C.S_IFBLK,
  [Ftype3.CHR]: C.S_IFCHR,
  [Ftype3.LNK]: C.S_IFLNK,
  [Ftype3.SOCK]: C.S_IFSOCK,
  [Ftype3.FIFO]: C.S_IFIFO,
};

export function timeMs(t: Nfstime3): number {
  return t.seconds * 1000 + t.nseconds / 1e6;
}

function makedev(major: number, minor: number): number {
  // glibc's gnu_dev_makedev, low 32 bits of each part as Linux stat reports them
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
}

/** The S_IF* bits of a type. */
export function modeTypeBits(type: number): number {
  return TYPE_BITS[type] ?? 0;
}

abstract class TypeTests {
  protected abstract typeBits(): number;
  isFile(): boolean {
    return this.typeBits() === C.S_IFREG;
  }
  isDirectory(): boolean {
    return this.typeBits() === C.S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.typeBits() === C.S_IFLNK;
  }
  isBlockDevice(): boolean {
    return this.typeBits() === C.S_IFBLK;
  }
  isCharacterDevice(): boolean {
    return this.typeBits() === C.S_IFCHR;
  }
  isFIFO(): boolean {
    return this.typeBits() === C.S_IFIFO;
  }
  isSocket(): boolean {
    return this.typeBits() === C.S_IFSOCK;
  }
}

/** Like fs.Stats. `attrs` is the server's fattr3 (exact 64-bit values: size, fileid, fsid). */
export class Stats extends TypeTests {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  /** The fattr3 as the server sent it. */
  readonly attrs!: Fattr3;

  constructor(a: Fattr3) {
    super();
    Object.defineProperty(this, 'attrs', { value: a, enumerable: false });
    this.dev = Number(a.fsid & 0xffffffffffffn);
    this.ino = Number(a.fileid);
    this.mode = modeTypeBits(a.type) | (a.mode & 0o7777);
    this.nlink = a.nlink;
    this.uid = a.uid;
    this.gid = a.gid;
    this.rdev = makedev(a.rdev.specdata1, a.rdev.specdata2);
    this.size = Number(a.size);
    this.blksize = 4096;
    this.blocks = Number((a.used + 511n) / 512n);
    this.atimeMs = timeMs(a.atime);
    this.mtimeMs = timeMs(a.mtime);
    this.ctimeMs = timeMs(a.ctime);
    // NFSv3 has no birth time; Linux reports 0 for it over NFSv3.
    this.birthtimeMs = 0;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(0);
  }

  protected typeBits(): number {
    return this.mode & C.S_IFMT;
  }
}

/** Like fs.Dirent (Node 20: `name`, `parentPath`, `path`, and the type tests). */
export class Dirent extends TypeTests {
  name: string;
  parentPath: string;
  path: string;
  private readonly bits: number;
  /** NFS extras (not enumerable): the handle and attributes from READDIRPLUS, when the server sent them. */
  readonly nfs!: { fileid: bigint; handle?: Buffer; attrs?: Fattr3 };

  constructor(name: string, parentPath: string, type: number | undefined, nfs: { fileid: bigint; handle?: Buffer; attrs?: Fattr3 }) {
    super();
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.bits = type === undefined ? 0 : modeTypeBits(type);
    Object.defineProperty(this, 'nfs', { value: nfs, enumerable: false });
  }

  protected typeBits(): number {
    return this.bits;
  }
}

/** Like fs.StatFs. */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** NFS_SUPER_MAGIC, what statfs(2) reports for an NFS mount. */
export const NFS_SUPER_MAGIC = 0x6969;
