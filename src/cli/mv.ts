/**
 * `nfs-localio mv SRC... DEST`: like mv(1). Within one export it is a
 * RENAME; across exports, servers or to/from the local disk it copies
 * (recursively, as cp -r) and then removes the source, as mv does across
 * filesystems.
 */
import { cp } from './cp.js';
import { ClientPool, destinationOf, baseName, child, complain, locate, lstat, rename, rmTree, sameExport, statOrNull, unlink, why, type Loc, type StatLike } from './nfs-common.js';

export interface MvOptions {
  verbose?: boolean;
  noClobber?: boolean;
}

export async function mv(args: string[], o: MvOptions): Promise<number> {
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
        st = await lstat(src);
      } catch (e) {
        complain(`cannot stat '${s}': ${why(e)}`);
        code = 1;
        continue;
      }
      const target = intoDir ? child(dest, baseName(src)) : dest;
      if (o.noClobber && (await statOrNull(target).catch(() => null))) continue;
      if (sameExport(src, target) || (src.kind === 'local' && target.kind === 'local')) {
        try {
          await rename(src, target);
          if (o.verbose) process.stdout.write(`renamed '${s}' -> '${target.display}'\n`);
          continue;
        } catch (e) {
          if ((e as { code?: string }).code !== 'EXDEV') {
            complain(`cannot move '${s}' to '${target.display}': ${why(e)}`);
            code = 1;
            continue;
          }
        }
      }
      // across filesystems: copy, then remove the source
      const c = await cp([s, target.display], { recursive: true, quiet: false });
      if (c !== 0) {
        code = 1;
        continue;
      }
      try {
        if (st.isDirectory()) await rmTree(src);
        else await unlink(src);
        if (o.verbose) process.stdout.write(`copied '${s}' -> '${target.display}', removed '${s}'\n`);
      } catch (e) {
        complain(`cannot remove '${s}': ${why(e)}`);
        code = 1;
      }
    }
    return code;
  } finally {
    await pool.closeAll();
  }
}
