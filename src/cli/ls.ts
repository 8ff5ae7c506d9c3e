/**
 * `nfs-localio ls [-l] [-a|-A] [-R] [-d] [-1] URL...`: like ls(1). Names
 * sorted bytewise (as LC_ALL=C), dot files hidden unless -a/-A, one per
 * line unless stdout is a terminal (then columns). Long format shows
 * numeric owners (the ids are the server's). Exit status as coreutils:
 * 0 ok, 1 minor trouble (a subdirectory could not be listed), 2 serious
 * trouble (a command-line argument could not be accessed).
 */
import { type Dirent, type NfsClient, type Stats } from '../client/index.js';
import { ClientPool, complain, displayJoin, isNfsUrl, why } from './nfs-common.js';

export interface LsOptions {
  long?: boolean;
  all?: boolean;
  almostAll?: boolean;
  recursive?: boolean;
  directory?: boolean;
  one?: boolean;
}

interface Entry {
  name: string;
  st?: Stats;
  target?: string;
}

const cmp = (a: string, b: string) => (Buffer.compare(Buffer.from(a), Buffer.from(b)));

export function modeString(st: { mode: number }): string {
  const m = st.mode;
  const t = m & 0o170000;
  const type = t === 0o040000 ? 'd' : t === 0o120000 ? 'l' : t === 0o060000 ? 'b' : t === 0o020000 ? 'c' : t === 0o010000 ? 'p' : t === 0o140000 ? 's' : '-';
  const bit = (b: number, c: string) => (m & b ? c : '-');
  let s = type + bit(0o400, 'r') + bit(0o200, 'w') + bit(0o100, 'x') + bit(0o040, 'r') + bit(0o020, 'w') + bit(0o010, 'x') + bit(0o004, 'r') + bit(0o002, 'w') + bit(0o001, 'x');
  const a = s.split('');
  if (m & 0o4000) a[3] = m & 0o100 ? 's' : 'S';
  if (m & 0o2000) a[6] = m & 0o010 ? 's' : 'S';
  if (m & 0o1000) a[9] = m & 0o001 ? 't' : 'T';
  s = a.join('');
  return s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function lsTime(d: Date): string {
  const now = Date.now();
  const sixMonths = 182.5 * 24 * 3600 * 1000;
  const recent = d.getTime() > now - sixMonths && d.getTime() < now + 3600 * 1000;
  const day = String(d.getDate()).padStart(2, ' ');
  if (recent) return `${MONTHS[d.getMonth()]} ${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return `${MONTHS[d.getMonth()]} ${day}  ${d.getFullYear()}`;
}

function longLines(entries: Entry[]): string[] {
  const rows = entries.map((e) => {
    const st = e.st!;
    const size = st.isCharacterDevice() || st.isBlockDevice() ? `${Math.floor(st.rdev / 256) & 0xfff}, ${st.rdev & 0xff}` : String(st.size);
    return [modeString(st), String(st.nlink), String(st.uid), String(st.gid), size, lsTime(st.mtime), e.name + (e.target !== undefined ? ` -> ${e.target}` : '')];
  });
  const w = [1, 2, 3, 4].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
  return rows.map((r) => `${r[0]} ${r[1].padStart(w[0])} ${r[2].padEnd(w[1])} ${r[3].padEnd(w[2])} ${r[4].padStart(w[3])} ${r[5]} ${r[6]}`);
}

function columns(names: string[], width: number): string[] {
  if (names.length === 0) return [];
  const max = Math.max(...names.map((n) => n.length)) + 2;
  const perRow = Math.max(1, Math.floor(width / max));
  const rows = Math.ceil(names.length / perRow);
  // column-major, as ls -C
  const colsNeeded = Math.ceil(names.length / rows);
  const widths: number[] = [];
  for (let c = 0; c < colsNeeded; c++) widths.push(Math.max(...names.slice(c * rows, (c + 1) * rows).map((n) => n.length)) + 2);
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let c = 0; c < colsNeeded; c++) {
      const n = names[c * rows + r];
      if (n === undefined) continue;
      line += c === colsNeeded - 1 || names[(c + 1) * rows + r] === undefined ? n : n.padEnd(widths[c]);
    }
    out.push(line);
  }
  return out;
}

export async function ls(urls: string[], o: LsOptions): Promise<number> {
  if (urls.length === 0) {
    complain('ls needs a URL (nfs://HOST/EXPORT[/PATH])');
    return 2;
  }
  const pool = new ClientPool();
  const out: string[] = [];
  const tty = process.stdout.isTTY && !o.one && !o.long;
  const width = process.stdout.columns ?? 80;
  let code = 0;
  const flush = () => {
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  };
  const print = (entries: Entry[]) => {
    if (o.long) out.push(...longLines(entries));
    else if (tty) out.push(...columns(entries.map((e) => e.name), width));
    else out.push(...entries.map((e) => e.name));
  };
  try {
    const files: Entry[] = [];
    const dirs: Array<{ arg: string; client: NfsClient; path: string }> = [];
    for (const arg of urls) {
      if (!isNfsUrl(arg)) {
        complain(`cannot access '${arg}': not an nfs:// URL`);
        code = 2;
        continue;
      }
      try {
        const { client, path } = await pool.get(arg);
        const follow = !o.long && !o.directory;
        // as coreutils: a symlink named on the command line is followed unless -l or -d
        const st = follow ? await client.stat(path) : await client.lstat(path);
        if (st.isDirectory() && !o.directory) dirs.push({ arg, client, path });
        else files.push({ name: arg, st, target: st.isSymbolicLink() && o.long ? await client.readlink(path) : undefined });
      } catch (e) {
        complain(`cannot access '${arg}': ${why(e)}`);
        code = 2;
      }
    }
    files.sort((a, b) => cmp(a.name, b.name));
    print(files);
    dirs.sort((a, b) => cmp(a.arg, b.arg));
    const header = urls.length > 1 || o.recursive;
    let first = files.length === 0;
    const listDir = async (label: string, client: NfsClient, path: string): Promise<void> => {
      let ents: Dirent[];
      try {
        ents = await client.readdir(path, { withFileTypes: true });
      } catch (e) {
        flush();
        complain(`cannot open directory '${label}': ${why(e)}`);
        code = Math.max(code, 1);
        return;
      }
      const shown = ents.filter((d) => o.all || o.almostAll || !d.name.startsWith('.')).sort((a, b) => cmp(a.name, b.name));
      if (!first) out.push('');
      first = false;
      if (header) out.push(`${label}:`);
      let entries: Entry[] = shown.map((d) => ({ name: d.name }));
      if (o.all) entries = [{ name: '.' }, { name: '..' }, ...entries];
      if (o.long) {
        const withStats = await Promise.all(
          entries.map(async (e): Promise<Entry | undefined> => {
            const p = e.name === '.' ? path : e.name === '..' ? `${path}/..` : `${path.replace(/\/+$/, '')}/${e.name}`;
            try {
              const st = await client.lstat(p);
              return { ...e, st, target: st.isSymbolicLink() ? await client.readlink(p) : undefined };
            } catch (err) {
              complain(`cannot access '${displayJoin(label, e.name)}': ${why(err)}`);
              code = Math.max(code, 1);
              return undefined;
            }
          }),
        );
        const ok = withStats.filter((e): e is Entry => e !== undefined);
        out.push(`total ${ok.reduce((s, e) => (e.name === '.' || e.name === '..' ? s : s + Math.ceil(e.st!.blocks / 2)), 0)}`);
        print(ok);
      } else print(entries);
      flush();
      if (o.recursive) {
        for (const d of shown) {
          if (!d.isDirectory()) continue;
          await listDir(displayJoin(label, d.name), client, `${path.replace(/\/+$/, '')}/${d.name}`);
        }
      }
    };
    for (const d of dirs) await listDir(d.arg, d.client, d.path);
    flush();
    return code;
  } finally {
    await pool.closeAll();
  }
}
