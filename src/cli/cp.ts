/**
 * `nfs-localio cp [-r] SRC... DEST`: like cp(1), in every direction
 * (local → NFS, NFS → local, NFS → NFS; local → local too). A progress bar
 * on stderr when it is a terminal. With -r, directories are copied
 * recursively and symlinks inside them are copied as symlinks (cp -R's -P).
 */
import { ClientPool, destinationOf, versionName, baseName, child, complain, copyData, failedSide, locate, lstat, mkdir, progressBar, readdirNames, readlink, stat, symlink, unlink, why, type Loc, type StatLike } from './nfs-common.js';

export interface CpOptions {
  recursive?: boolean;
  /** Force the progress bar off (-q) — it is only ever shown on a terminal. */
  quiet?: boolean;
  verbose?: boolean;
}

const BAR_MIN = 4 * 1024 * 1024;

export async function cp(args: string[], o: CpOptions): Promise<number> {
  const pool = new ClientPool();
  try {
    const ops = await destinationOf(pool, args);
    if (typeof ops === 'number') return ops;
    const { srcs, dest, intoDir } = ops;
    let code = 0;
    for (const s of srcs) {
      let src: Loc;
      let st: StatLike;
      try {
        src = await locate(pool, s);
        st = o.recursive ? await lstat(src) : await stat(src);
      } catch (e) {
        complain(`cannot stat '${s}': ${why(e)}`);
        code = 1;
        continue;
      }
      if (st.isDirectory() && !o.recursive) {
        complain(`-r not specified; omitting directory '${s}'`);
        code = 1;
        continue;
      }
      const target = intoDir ? child(dest, baseName(src)) : dest;
      if (!(await copyOne(src, st, target, o, true))) code = 1;
    }
    return code;
  } finally {
    await pool.closeAll();
  }
}

async function copyOne(src: Loc, st: StatLike, target: Loc, o: CpOptions, top: boolean): Promise<boolean> {
  let tst: StatLike | null;
  try {
    tst = await lstatOrNull(target);
  } catch (e) {
    complain(`cannot stat '${target.display}': ${why(e)}`);
    return false;
  }
  if (st.isSymbolicLink()) {
    try {
      const t = await readlink(src);
      if (tst) {
        if (tst.isDirectory()) {
          complain(`cannot overwrite directory '${target.display}' with non-directory`);
          return false;
        }
        await unlink(target);
      }
      await symlink(t, target);
      if (o.verbose) process.stdout.write(`'${src.display}' -> '${target.display}'${versionNote(src, target)}\n`);
      return true;
    } catch (e) {
      complain(`cannot create symbolic link '${target.display}': ${why(e)}`);
      return false;
    }
  }
  if (st.isDirectory()) {
    if (tst && !tst.isDirectory()) {
      complain(`cannot overwrite non-directory '${target.display}' with directory '${src.display}'`);
      return false;
    }
    if (!tst) {
      try {
        await mkdir(target, (st.mode & 0o7777) | 0o700);
      } catch (e) {
        complain(`cannot create directory '${target.display}': ${why(e)}`);
        return false;
      }
      if (o.verbose) process.stdout.write(`'${src.display}' -> '${target.display}'${versionNote(src, target)}\n`);
    }
    let names: string[];
    try {
      names = await readdirNames(src);
    } catch (e) {
      complain(`cannot access '${src.display}': ${why(e)}`);
      return false;
    }
    let ok = true;
    for (const n of names.sort()) {
      const c = child(src, n);
      let cst: StatLike;
      try {
        cst = await lstat(c);
      } catch (e) {
        complain(`cannot stat '${c.display}': ${why(e)}`);
        ok = false;
        continue;
      }
      if (!(await copyOne(c, cst, child(target, n), o, false))) ok = false;
    }
    return ok;
  }
  if (!st.isFile()) {
    complain(`cannot copy special file '${src.display}'`);
    return false;
  }
  if (tst?.isDirectory()) {
    complain(`cannot overwrite directory '${target.display}' with non-directory`);
    return false;
  }
  const bar = !o.quiet && (top || st.size >= BAR_MIN) ? await progressBar(st.size, baseName(src)) : undefined;
  try {
    await copyData(src, target, st.mode, bar);
    if (o.verbose) process.stdout.write(`'${src.display}' -> '${target.display}'${versionNote(src, target)}\n`);
    return true;
  } catch (e) {
    // cp(1)'s messages: which side, and whether it failed to open or in the middle
    const atOpen = (e as { syscall?: string }).syscall === 'open';
    if (failedSide(e) === 'source') complain(atOpen ? `cannot open '${src.display}' for reading: ${why(e)}` : `error reading '${src.display}': ${why(e)}`);
    else complain(atOpen ? `cannot create regular file '${target.display}': ${why(e)}` : `error writing '${target.display}': ${why(e)}`);
    return false;
  } finally {
    bar?.stop();
  }
}

async function lstatOrNull(l: Loc): Promise<StatLike | null> {
  try {
    return await lstat(l);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
}

/** " (NFSv4.1)" after a verbose line: the protocol each NFS side spoke ("NFSv3 -> NFSv4.2" when they differ). */
function versionNote(src: Loc, dst: Loc): string {
  const v = [src, dst].flatMap((l) => (l.kind === 'nfs' ? [versionName(l.client)] : []));
  if (v.length === 0) return '';
  return ` (${v.length === 2 && v[0] !== v[1] ? `${v[0]} -> ${v[1]}` : v[0]})`;
}
