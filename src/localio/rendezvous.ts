/**
 * The host tier of the nonce registry: a rendezvous directory where a
 * probing client listens on a Unix socket named by its nonce. A server that
 * receives the nonce over NFS connects to that socket — only a process on
 * this host, seeing this directory, can — and that connection is the
 * binding. The directory is mode 1733 (anyone may create, nobody but its
 * owner may list, the sticky bit stops others removing or replacing what
 * is not theirs), so names cannot be enumerated.
 *
 * Default: /run/nfs-localio when it exists or can be made (root), else
 * $TMPDIR/nfs-localio. NFS_LOCALIO_RENDEZVOUS or an option overrides it; a
 * container shares LOCALIO with another only by sharing this directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RENDEZVOUS_ENV = 'NFS_LOCALIO_RENDEZVOUS';
const DIR_MODE = 0o1733;
const NAME_RE = /^[0-9a-f]{32}\.sock$/;

export class RendezvousError extends Error {
  readonly code = 'ERENDEZVOUS';
  constructor(message: string) {
    super(message);
    this.name = 'RendezvousError';
  }
}

/** The directories a socket may be in: the configured one only, or the two defaults in order. */
export function rendezvousCandidates(configured?: string): string[] {
  const c = configured ?? process.env[RENDEZVOUS_ENV];
  if (c) return [path.resolve(c)];
  return ['/run/nfs-localio', path.join(os.tmpdir(), 'nfs-localio')];
}

function checkDir(dir: string): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new RendezvousError(`${dir} is not a directory`);
  const uid = process.getuid?.() ?? 0;
  const shared = (st.mode & 0o1000) !== 0; // sticky: others cannot replace our socket
  const privateDir = st.uid === uid && (st.mode & 0o022) === 0;
  if (!shared && !privateDir) throw new RendezvousError(`${dir} is writable by others without the sticky bit (mode ${(st.mode & 0o7777).toString(8)}); refusing to use it`);
}

/** Make (or check) the directory a client listens in; returns it. */
export function ensureRendezvousDir(configured?: string): string {
  const errors: string[] = [];
  for (const dir of rendezvousCandidates(configured)) {
    try {
      try {
        fs.mkdirSync(dir, { mode: DIR_MODE });
        fs.chmodSync(dir, DIR_MODE); // mkdir's mode passes through the umask
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      checkDir(dir);
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
      return dir;
    } catch (e) {
      errors.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new RendezvousError(`no usable rendezvous directory (${errors.join('; ')})`);
}

export function socketName(nonce: Buffer): string {
  return `${nonce.toString('hex')}.sock`;
}

/** Where a server looks for a nonce's socket: the candidates where one exists. */
export function findSocket(nonce: Buffer, configured?: string): string | undefined {
  if (nonce.length !== 16) return undefined;
  for (const dir of rendezvousCandidates(configured)) {
    const p = path.join(dir, socketName(nonce));
    try {
      if (fs.lstatSync(p).isSocket()) return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * Remove sockets left by crashed clients: names of our form, older than
 * `minAgeMs`, that refuse a connection. Best effort — listing needs the
 * directory's owner (or root), removing needs the socket's owner.
 */
export function sweepStale(dir: string, isDead: (p: string) => boolean, minAgeMs = 60_000, max = 256): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  const now = Date.now();
  for (const name of names.slice(0, max)) {
    if (!NAME_RE.test(name)) continue;
    const p = path.join(dir, name);
    try {
      const st = fs.lstatSync(p);
      if (!st.isSocket() || now - st.mtimeMs < minAgeMs) continue;
      if (!isDead(p)) continue;
      fs.unlinkSync(p);
      removed++;
    } catch {
      // raced with its owner, or not ours to remove
    }
  }
  return removed;
}
