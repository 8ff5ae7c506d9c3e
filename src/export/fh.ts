/**
 * File handles and the secret that authenticates them.
 *
 * Version 2 (minted), 13 + n bytes: 24 for the POSIX backend's 11-byte keys,
 * at most 13 + 32 = 45, well under NFSv3's 64:
 *
 *   0   version      = 2 (implies the MAC: keyed SHA-256, 8 bytes)
 *   1   export id    u32 big-endian (non-zero)
 *   5   node key     n bytes (the backend's key; n = length - 13)
 *   5+n MAC          8 bytes over bytes [0, 5+n)
 *
 * Version 1 (accepted, no longer minted), 16 + n bytes, at most 48:
 *
 *   0  version      = 1
 *   1  mac type     = 2 (SHA-256 of secret ‖ bytes [0, 8+n), truncated to 8 bytes)
 *   2  key length   = n (0..32)
 *   3  reserved     = 0
 *   4  export id    u32 big-endian (non-zero)
 *   8  node key     n bytes (the backend's key)
 *   8+n MAC         8 bytes over bytes [0, 8+n)
 *
 * Why version 2: handles are sent with every READDIRPLUS entry, and a reply
 * is bounded by the client's maxcount (8 KiB for libnfs). 37-byte handles
 * (v1 with the POSIX 21-byte key) made an entry 168 bytes on the wire, 24-byte
 * ones make it 152: 53 entries per reply instead of 48, ~10% fewer round
 * trips for a listing. Nothing of the security argument below changed: the
 * MAC is as long, still covers every byte before it, and the key length is
 * implied by the handle's length, which the MAC covers as well (a body of
 * another length is another MAC input; truncated SHA-256 hides its state, so
 * no extension). The two versions cannot be confused with each other: the
 * first byte, part of every MAC input, differs.
 *
 * Why a MAC: the node key is the backend's (an inode number, a path hash…)
 * and guessable. Without authentication a client could forge a handle for
 * any object of an export, including ones outside the directory it mounted
 * or files it never looked up through a searchable path. The MAC makes a
 * handle something only this server can mint. The header fields are covered
 * too, so no bit of a handle can be changed unnoticed; the version byte lets
 * a later format coexist with this one.
 *
 * 64 bits of MAC: forging needs ~2^63 online guesses against a server that
 * answers one RPC at a time; this is a capability check, not long-lived
 * signatures.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp, constants as fsc } from 'node:fs';
import { homedir } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { MAX_NODE_KEY } from '../storage/types.js';
import { GateError } from './types.js';

/** The first handle format (accepted; encodeFh still writes it, for its tests and tools). */
export const FH_VERSION = 1;
/** The compact format that the export table mints (encodeFhCompact). */
export const FH_VERSION_COMPACT = 2;
export const FH_COMPACT_HEADER = 5;
/**
 * MAC type 2: SHA-256(secret ‖ body) truncated to 64 bits. Prefix-keyed
 * SHA-256 is length-extendable only by someone who sees the full 256-bit
 * digest; truncated to 64 bits the internal state stays hidden, so this is a
 * sound MAC for fixed-format bodies, and it costs one crypto.hash call
 * (measured ~5 µs) instead of an HMAC object (~10 µs) — it is paid for every
 * entry of every READDIRPLUS page. (Type 1, HMAC, was never released.)
 */
export const FH_MAC_KEYED_SHA256_64 = 2;
export const FH_HEADER = 8;
export const FH_MAC_LEN = 8;
export const FH_MAX = FH_HEADER + MAX_NODE_KEY + FH_MAC_LEN; // 48 ≤ NFS3_FHSIZE (64)
export const SECRET_LEN = 32;

function mac(secret: Buffer, body: Buffer): Buffer {
  const input = Buffer.allocUnsafe(secret.length + body.length);
  secret.copy(input, 0);
  body.copy(input, secret.length);
  return (hash('sha256', input, 'buffer') as Buffer).subarray(0, FH_MAC_LEN);
}

export function encodeFh(secret: Buffer, exportId: number, nodeKey: Buffer): Buffer {
  if (!Number.isInteger(exportId) || exportId <= 0 || exportId > 0xffffffff) throw new RangeError(`bad export id ${exportId}`);
  if (nodeKey.length > MAX_NODE_KEY) throw new RangeError(`node key longer than ${MAX_NODE_KEY} bytes`);
  const fh = Buffer.alloc(FH_HEADER + nodeKey.length + FH_MAC_LEN);
  fh[0] = FH_VERSION;
  fh[1] = FH_MAC_KEYED_SHA256_64;
  fh[2] = nodeKey.length;
  fh[3] = 0;
  fh.writeUInt32BE(exportId, 4);
  nodeKey.copy(fh, FH_HEADER);
  const body = fh.subarray(0, FH_HEADER + nodeKey.length);
  mac(secret, body).copy(fh, body.length);
  return fh;
}

/** A version-2 handle: [2][export id][node key][MAC over everything before it]. */
export function encodeFhCompact(secret: Buffer, exportId: number, nodeKey: Buffer): Buffer {
  if (!Number.isInteger(exportId) || exportId <= 0 || exportId > 0xffffffff) throw new RangeError(`bad export id ${exportId}`);
  if (nodeKey.length > MAX_NODE_KEY) throw new RangeError(`node key longer than ${MAX_NODE_KEY} bytes`);
  const fh = Buffer.alloc(FH_COMPACT_HEADER + nodeKey.length + FH_MAC_LEN);
  fh[0] = FH_VERSION_COMPACT;
  fh.writeUInt32BE(exportId, 1);
  nodeKey.copy(fh, FH_COMPACT_HEADER);
  const body = fh.subarray(0, FH_COMPACT_HEADER + nodeKey.length);
  mac(secret, body).copy(fh, body.length);
  return fh;
}

/**
 * Check and split a handle of either version. Every malformation and a wrong MAC give the same
 * EBADHANDLE, so a prober learns nothing about which part was wrong.
 */
export function decodeFh(secret: Buffer, fh: Buffer): { exportId: number; nodeKey: Buffer } {
  const bad = (): never => {
    throw new GateError('EBADHANDLE', 'invalid file handle');
  };
  if (fh[0] === FH_VERSION_COMPACT) {
    if (fh.length < FH_COMPACT_HEADER + FH_MAC_LEN || fh.length > FH_COMPACT_HEADER + MAX_NODE_KEY + FH_MAC_LEN) bad();
    const bodyLen = fh.length - FH_MAC_LEN;
    if (!timingSafeEqual(mac(secret, fh.subarray(0, bodyLen)), fh.subarray(bodyLen))) bad();
    const exportId = fh.readUInt32BE(1);
    if (exportId === 0) bad();
    return { exportId, nodeKey: Buffer.from(fh.subarray(FH_COMPACT_HEADER, bodyLen)) };
  }
  if (fh.length < FH_HEADER + FH_MAC_LEN || fh.length > FH_MAX) bad();
  const n = fh[2]!;
  if (fh[0] !== FH_VERSION || fh[1] !== FH_MAC_KEYED_SHA256_64 || fh[3] !== 0 || n > MAX_NODE_KEY) bad();
  if (fh.length !== FH_HEADER + n + FH_MAC_LEN) bad();
  const bodyLen = FH_HEADER + n;
  // Constant-time compare: a timing side channel would let a MAC be found byte by byte.
  if (!timingSafeEqual(mac(secret, fh.subarray(0, bodyLen)), fh.subarray(bodyLen))) bad();
  const exportId = fh.readUInt32BE(4);
  if (exportId === 0) bad();
  return { exportId, nodeKey: Buffer.from(fh.subarray(FH_HEADER, bodyLen)) };
}

/**
 * Where persistent server state (the handle secret) lives:
 * $NFS_LOCALIO_STATE_DIR, else /var/lib/nfs-localio for root, else
 * $XDG_STATE_HOME/nfs-localio, else ~/.local/state/nfs-localio.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.NFS_LOCALIO_STATE_DIR) return env.NFS_LOCALIO_STATE_DIR;
  if (uid === 0) return '/var/lib/nfs-localio';
  // The XDG spec says relative values are invalid and must be ignored.
  if (env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)) return join(env.XDG_STATE_HOME, 'nfs-localio');
  return join(env.HOME || homedir(), '.local', 'state', 'nfs-localio');
}

/**
 * The 32-byte handle secret in <stateDir>/fh.key, created on first use.
 * Persisted so that handles survive a server restart (clients keep their
 * mounts); kept 0600 because whoever reads it can forge handles.
 */
export async function loadOrCreateSecret(stateDir: string): Promise<Buffer> {
  const file = join(stateDir, 'fh.key');
  const existing = await readSecret(file);
  if (existing) return existing;

  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  // Write to a temp file and fsync before it appears under the final name, so
  // a crash never leaves a short key behind (which would be refused, or worse
  // a key that changes on the next start and invalidates every handle).
  const tmp = join(stateDir, `.fh.key.${process.pid}.${randomBytes(6).toString('hex')}`);
  const secret = randomBytes(SECRET_LEN);
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await fh.writeFile(secret);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    // link() rather than rename(): if another process created the key in
    // the meantime, keep theirs (EEXIST) instead of replacing it under them.
    await fsp.link(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      // Filesystems without hard links: fall back to the atomic rename.
      await fsp.rename(tmp, file);
      await syncDir(stateDir);
      return secret;
    }
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
  await syncDir(stateDir);
  const final = await readSecret(file);
  if (!final) throw new Error(`${file}: could not be read back`);
  return final;
}

async function readSecret(file: string): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = await fh.stat();
    // Tighten a key someone left readable: it is a forging key.
    if (st.mode & 0o077) await fh.chmod(0o600).catch(() => undefined);
    const buf = await fh.readFile();
    // Never silently replace a damaged key: that would invalidate every
    // handle clients hold. Make the operator look.
    if (buf.length !== SECRET_LEN) {
      throw new Error(
        `${file}: expected ${SECRET_LEN} bytes, found ${buf.length}; remove it to generate a new key (all clients will need to remount)`,
      );
    }
    return buf;
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, fsc.O_RDONLY).catch(() => undefined);
  if (!d) return;
  await d.sync().catch(() => undefined);
  await d.close();
}
