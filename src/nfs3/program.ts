/**
 * The NFSv3 procedure table (program 100003, version 3): one row per
 * procedure, indexed by procedure number, run by the RPC dispatcher.
 * cache 'reply' marks the non-idempotent procedures whose replies the
 * duplicate request cache keeps (SETATTR, WRITE, CREATE, MKDIR, SYMLINK,
 * MKNOD, REMOVE, RMDIR, RENAME, LINK), as knfsd's RC_REPLBUFF/RC_REPLSTAT;
 * the same procedures tick the change clock (changes.ts).
 */
import type { ProcedureDef, RpcProgram } from '../rpc/program.js';
import type { Nfs3Env } from './env.js';
import { NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc } from './constants.js';
import { ChangeClock } from '../util/changes.js';
import { nullProcedure } from './procedures/null.js';
import { getattrProcedure } from './procedures/getattr.js';
import { setattrProcedure } from './procedures/setattr.js';
import { lookupProcedure } from './procedures/lookup.js';
import { accessProcedure } from './procedures/access.js';
import { readlinkProcedure } from './procedures/readlink.js';
import { readProcedure } from './procedures/read.js';
import { writeProcedure } from './procedures/write.js';
import { createProcedure } from './procedures/create.js';
import { mkdirProcedure } from './procedures/mkdir.js';
import { symlinkProcedure } from './procedures/symlink.js';
import { mknodProcedure } from './procedures/mknod.js';
import { removeProcedure } from './procedures/remove.js';
import { rmdirProcedure } from './procedures/rmdir.js';
import { renameProcedure } from './procedures/rename.js';
import { linkProcedure } from './procedures/link.js';
import { readdirProcedure } from './procedures/readdir.js';
import { readdirplusProcedure } from './procedures/readdirplus.js';
import { fsstatProcedure } from './procedures/fsstat.js';
import { fsinfoProcedure } from './procedures/fsinfo.js';
import { pathconfProcedure } from './procedures/pathconf.js';
import { commitProcedure } from './procedures/commit.js';

/** Builds the version-3 table; exported for tests that call procedures directly. */
export function createNfs3Procedures(nfsEnv: Nfs3Env): ProcedureDef[] {
  const P = Nfs3Proc;
  const changes = nfsEnv.changes ?? new ChangeClock();
  const env = { ...nfsEnv, changes };
  const table: ProcedureDef[] = [];
  table[P.NULL] = nullProcedure(env);
  table[P.GETATTR] = getattrProcedure(env);
  table[P.SETATTR] = setattrProcedure(env);
  table[P.LOOKUP] = lookupProcedure(env);
  table[P.ACCESS] = accessProcedure(env);
  table[P.READLINK] = readlinkProcedure(env);
  table[P.READ] = readProcedure(env);
  table[P.WRITE] = writeProcedure(env);
  table[P.CREATE] = createProcedure(env);
  table[P.MKDIR] = mkdirProcedure(env);
  table[P.SYMLINK] = symlinkProcedure(env);
  table[P.MKNOD] = mknodProcedure(env);
  table[P.REMOVE] = removeProcedure(env);
  table[P.RMDIR] = rmdirProcedure(env);
  table[P.RENAME] = renameProcedure(env);
  table[P.LINK] = linkProcedure(env);
  table[P.READDIR] = readdirProcedure(env);
  table[P.READDIRPLUS] = readdirplusProcedure(env);
  table[P.FSSTAT] = fsstatProcedure(env);
  table[P.FSINFO] = fsinfoProcedure(env);
  table[P.PATHCONF] = pathconfProcedure(env);
  table[P.COMMIT] = commitProcedure(env);
  // The modifying procedures (the ones whose replies are cached) tick the change clock.
  return table.map((p) => (p.cache === 'reply' ? ticking(p, changes) : p));
}

function ticking<A, R>(p: ProcedureDef<A, R>, changes: ChangeClock): ProcedureDef<A, R> {
  return {
    ...p,
    handle: (args, ctx) => changes.during(async () => p.handle(args, ctx)),
  };
}

export function createNfs3Program(env: Nfs3Env): RpcProgram {
  return {
    number: NFS3_PROGRAM,
    name: 'nfs',
    versions: new Map([[NFS3_VERSION, createNfs3Procedures(env)]]),
  };
}
