/**
 * POSIX backend helpers that do not need the backend's state: stat → Attrs,
 * node key encoding, descriptor I/O as promises (callback fs: no FileHandle
 * object per call), and a socket file made without the addon (makeSocket).
 */
import fs from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { nsToTimestamp, toStorageError, NS_PER_SEC } from './common.js';
import { storageError, type Attrs, type FileType, type Timestamp } from './types.js';

export function openFd(p: string, flags: number, mode = 0o600): Promise<number> {
  return new Promise((res, rej) => fs.open(p, flags, mode, (e, fd) => (e ? rej(e) : res(fd))));
}
export function fstatFd(fd: number): Promise<fs.BigIntStats> {
  return new Promise((res, rej) => fs.fstat(fd, { bigint: true }, (e, st) => (e ? rej(e) : res(st))));
}
export function closeFd(fd: number): Promise<void> {
  return new Promise((res) => fs.close(fd, () => res()));
}
export function preadv(fd: number, bufs: Buffer[], pos: number): Promise<number> {
  return new Promise((res, rej) => fs.readv(fd, bufs, pos, (e, n) => (e ? rej(e) : res(n))));
}
export function pwrite(fd: number, b: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => fs.write(fd, b, off, len, pos, (e, n) => (e ? rej(e) : res(n))));
}

const S_IFMT = 0o170000;

export function fileType(mode: bigint | number): FileType {
  switch (Number(mode) & S_IFMT) {
    case 0o100000:
      return 'reg';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'lnk';
    case 0o020000:
      return 'chr';
    case 0o060000:
      return 'blk';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'sock';
    default:
      return 'reg';
  }
}

/** glibc's gnu_dev_major/minor: the 64-bit Linux dev_t layout. */
export function splitRdev(rdev: bigint): { major: number; minor: number } {
  if (rdev === 0n) return { major: 0, minor: 0 }; // every non-device file: skip the BigInt arithmetic
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(BigInt.asUintN(32, major)), minor: Number(BigInt.asUintN(32, minor)) };
}

export function statToAttrs(st: fs.BigIntStats, fsid: bigint): Attrs {
  return {
    type: fileType(st.mode),
    mode: Number(st.mode) & 0o7777,
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    used: st.blocks * 512n,
    rdev: splitRdev(st.rdev),
    fsid,
    fileid: st.ino,
    atime: nsToTimestamp(st.atimeNs),
    mtime: nsToTimestamp(st.mtimeNs),
    ctime: nsToTimestamp(st.ctimeNs),
  };
}

/**
 * Layout of the array PosixBackendOptions.statAt fills (native/fdpass.c
 * js_stat_at): the lstat fields as libuv reports them, times as (seconds,
 * nanoseconds) pairs instead of BigIntStats' ns sums and Dates.
 */
export const STAT_AT = {
  DEV: 0,
  INO: 1,
  MODE: 2,
  NLINK: 3,
  UID: 4,
  GID: 5,
  RDEV: 6,
  SIZE: 7,
  BLOCKS: 8,
  ATIME_SEC: 9,
  ATIME_NSEC: 10,
  MTIME_SEC: 11,
  MTIME_NSEC: 12,
  CTIME_SEC: 13,
  CTIME_NSEC: 14,
  BTIME_SEC: 15,
  BTIME_NSEC: 16,
  FIELDS: 17,
} as const;

/**
 * statToAttrs of a STAT_AT array: the same Attrs lstat's BigIntStats gives. The
 * kernel's tv_nsec is always in [0, 1e9), so each (sec, nsec) pair already is
 * what nsToTimestamp makes of sec·10⁹ + nsec.
 */
export function statAtToAttrs(raw: BigInt64Array, fsid: bigint): Attrs {
  const mode = Number(raw[STAT_AT.MODE]);
  return {
    type: fileType(mode),
    mode: mode & 0o7777,
    nlink: Number(raw[STAT_AT.NLINK]),
    uid: Number(raw[STAT_AT.UID]),
    gid: Number(raw[STAT_AT.GID]),
    size: raw[STAT_AT.SIZE],
    used: raw[STAT_AT.BLOCKS] * 512n,
    rdev: splitRdev(raw[STAT_AT.RDEV]),
    fsid,
    fileid: raw[STAT_AT.INO],
    atime: { sec: Number(raw[STAT_AT.ATIME_SEC]), nsec: Number(raw[STAT_AT.ATIME_NSEC]) },
    mtime: { sec: Number(raw[STAT_AT.MTIME_SEC]), nsec: Number(raw[STAT_AT.MTIME_NSEC]) },
    ctime: { sec: Number(raw[STAT_AT.CTIME_SEC]), nsec: Number(raw[STAT_AT.CTIME_NSEC]) },
  };
}

/** BigIntStats.birthtimeNs of a STAT_AT array (Node's sec·10⁹ + nsec). */
export function statAtBirthNs(raw: BigInt64Array): bigint {
  return raw[STAT_AT.BTIME_SEC] * NS_PER_SEC + raw[STAT_AT.BTIME_NSEC];
}

/*
 * Node keys. Version 2, minted since the compact file handle (fh.ts), is
 * 11 bytes — 15 when the inode number needs 64 bits — so that a whole
 * handle is 24 bytes, like knfsd's and ganesha's, and a READDIRPLUS reply
 * holds ~10% more entries than with version 1:
 *   [0]      version 2
 *   [1..2]   tag: the low 16 bits of rootTag, so keys of a recreated root
 *            fail fast instead of triggering a scan (the handle's MAC already
 *            binds a key to its export: this is only an optimisation)
 *   [3..6]   inode number, u32          | [3..10]  u64 (15-byte form)
 *   [7..10]  generation, u32            | [11..14] u32
 * The generation is genOf(birth time in ns), 0 where the fs has none: a
 * 32-bit mix, the same width as knfsd's i_generation. It only has to tell
 * a reused inode number apart from the file it used to be: two births in the
 * same 2^32 ns (4.3 s) window always differ (the mix is a bijection of the
 * low word), others collide with probability 2^-32 per reuse.
 *
 * Version 1 (21 bytes, [0]=1, tag u32, inode u64, generation = the full
 * birth time u64) is still accepted, so handles a client got before the
 * upgrade keep working: decodeKey folds its birth time to the version-2
 * generation.
 */
export const POSIX_KEY_LEN = 11;
const POSIX_KEY_LEN_WIDE = 15;
const POSIX_KEY_V1_LEN = 21;

/** The version-2 generation of a birth time in ns (0 stays 0): murmur3's fmix32 over hi·φ ⊕ lo. */
export function genOf(birthNs: bigint): bigint {
  if (birthNs === 0n) return 0n;
  const lo = Number(BigInt.asUintN(32, birthNs));
  const hi = Number(BigInt.asUintN(32, birthNs >> 32n));
  let h = (Math.imul(hi, 0x9e3779b1) ^ lo) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return BigInt(h >>> 0);
}

export function encodeKey(tag: number, ino: bigint, gen: bigint): Buffer {
  const wide = ino > 0xffffffffn || ino < 0n;
  const b = Buffer.allocUnsafe(wide ? POSIX_KEY_LEN_WIDE : POSIX_KEY_LEN);
  b[0] = 2;
  b.writeUInt16BE(tag & 0xffff, 1);
  if (wide) b.writeBigUInt64BE(BigInt.asUintN(64, ino), 3);
  else b.writeUInt32BE(Number(ino), 3);
  b.writeUInt32BE(Number(BigInt.asUintN(32, gen)), wide ? 11 : 7);
  return b;
}

/** (inode, version-2 generation) of a key of this root, or undefined for anything else. */
export function decodeKey(key: Buffer, tag: number): { ino: bigint; gen: bigint } | undefined {
  if (!Buffer.isBuffer(key)) return undefined;
  if (key[0] === 2 && key.readUInt16BE(1) === (tag & 0xffff)) {
    if (key.length === POSIX_KEY_LEN) return { ino: BigInt(key.readUInt32BE(3)), gen: BigInt(key.readUInt32BE(7)) };
    if (key.length === POSIX_KEY_LEN_WIDE) {
      const ino = key.readBigUInt64BE(3);
      // Only minted for inode numbers that need it: one key per object.
      if (ino <= 0xffffffffn) return undefined;
      return { ino, gen: BigInt(key.readUInt32BE(11)) };
    }
    return undefined;
  }
  if (key.length !== POSIX_KEY_V1_LEN || key[0] !== 1) return undefined;
  if (key.readUInt32BE(1) !== tag >>> 0) return undefined;
  return { ino: key.readBigUInt64BE(5), gen: genOf(key.readBigUInt64BE(13)) };
}

/** 32-bit FNV-1a over the root's identity, used as the key tag. */
export function rootTag(ino: bigint, gen: bigint): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(`${ino}:${gen}`)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Make a Unix socket file named `name` in the directory dirFd holds (the /proc
 * fallback's mknod of a socket; the addon uses mknodat). Node's net.Server
 * unlinks its path on close, so bind under a short temporary name through
 * /proc/self/fd/<dirFd>/ (sun_path holds 108 bytes) and hard-link the result
 * to the real name (link(2) also refuses to replace an existing name, as
 * mknod would).
 */
export async function makeSocket(dirFd: number, name: string): Promise<void> {
  const dir = `/proc/self/fd/${dirFd}`;
  const tmp = `.nfs-sock-${randomBytes(6).toString('hex')}`;
  const server = net.createServer();
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(`${dir}/${tmp}`, () => res());
    });
    await fs.promises.link(`${dir}/${tmp}`, `${dir}/${name}`);
  } catch (e) {
    throw toStorageError(e);
  } finally {
    await new Promise<void>((res) => (server.listening ? server.close(() => res()) : res()));
    await fs.promises.unlink(`${dir}/${tmp}`).catch(() => undefined);
  }
}
