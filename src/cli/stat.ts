/**
 * `nfs-localio stat [-L] URL...`: like stat(1)'s default output (coreutils
 * 9). Owners are the server's numeric ids, named from this machine's
 * passwd/group when they exist there. "nfs-localio: cannot stat 'URL': …".
 */
import fs from 'node:fs';
import type { Stats } from '../client/index.js';
import { ClientPool, complain, isNfsUrl, why } from './nfs-common.js';
import { modeString } from './ls.js';

export interface StatOptions {
  dereference?: boolean;
}

function names(file: string): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d+$/.test(f[2]) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
    }
  } catch {
    // no passwd/group: numbers only
  }
  return m;
}

function typeName(st: Stats): string {
  if (st.isFile()) return st.size === 0 ? 'regular empty file' : 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice()) return 'block special file';
  if (st.isCharacterDevice()) return 'character special file';
  return 'weird file';
}

function stamp(t: { seconds: number; nseconds: number }): string {
  const d = new Date(t.seconds * 1000);
  const off = -d.getTimezoneOffset();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const tz = `${off >= 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(t.nseconds).padStart(9, '0')} ${tz}`;
}

export function formatStat(label: string, st: Stats, target: string | undefined, users: Map<number, string>, groups: Map<number, string>): string {
  const a = st.attrs;
  const perm = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const u = users.get(st.uid) ?? 'UNKNOWN';
  const g = groups.get(st.gid) ?? 'UNKNOWN';
  const dev = Number(a.fsid & 0xffffffffn);
  const major = Math.floor(dev / 2 ** 20) || (dev >>> 8) & 0xfff;
  const minor = dev & 0xff;
  const lines = [
    `  File: ${label}${target !== undefined ? ` -> ${target}` : ''}`,
    `  Size: ${String(st.size).padEnd(10)}\tBlocks: ${String(st.blocks).padEnd(10)} IO Block: ${String(st.blksize).padEnd(6)} ${typeName(st)}`,
    `Device: ${major},${minor}\tInode: ${String(a.fileid).padEnd(11)} Links: ${st.nlink}` +
      (st.isCharacterDevice() || st.isBlockDevice() ? `     Device type: ${a.rdev.specdata1},${a.rdev.specdata2}` : ''),
    `Access: (${perm}/${modeString(st)})  Uid: (${String(st.uid).padStart(5)}/${u.padStart(8)})   Gid: (${String(st.gid).padStart(5)}/${g.padStart(8)})`,
    `Access: ${stamp(a.atime)}`,
    `Modify: ${stamp(a.mtime)}`,
    `Change: ${stamp(a.ctime)}`,
    ` Birth: -`,
  ];
  return lines.join('\n') + '\n';
}

export async function statCmd(urls: string[], o: StatOptions): Promise<number> {
  if (urls.length === 0) {
    complain('missing operand');
    return 1;
  }
  const pool = new ClientPool();
  const users = names('/etc/passwd');
  const groups = names('/etc/group');
  let code = 0;
  try {
    for (const url of urls) {
      if (!isNfsUrl(url)) {
        complain(`cannot stat '${url}': not an nfs:// URL`);
        code = 1;
        continue;
      }
      try {
        const { client, path } = await pool.get(url);
        const st = o.dereference ? await client.stat(path) : await client.lstat(path);
        const target = st.isSymbolicLink() ? await client.readlink(path) : undefined;
        process.stdout.write(formatStat(url, st, target, users, groups));
      } catch (e) {
        complain(`cannot stat '${url}': ${why(e)}`);
        code = 1;
      }
    }
    return code;
  } finally {
    await pool.closeAll();
  }
}
