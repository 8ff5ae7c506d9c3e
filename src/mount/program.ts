/**
 * The MOUNT program table (100005). Only version 3 is registered; a call
 * for v1/v2 gets PROG_MISMATCH (3..3) from the RPC layer.
 */
import type { ProcedureDef, RpcProgram } from '../rpc/program.js';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc } from './constants.js';
import type { MountDeps, MountEnv } from './env.js';
import { MountList } from './mount-list.js';
import { mountNullProcedure } from './procedures/null.js';
import { mntProcedure } from './procedures/mnt.js';
import { dumpProcedure } from './procedures/dump.js';
import { umntProcedure } from './procedures/umnt.js';
import { umntallProcedure } from './procedures/umntall.js';
import { exportProcedure } from './procedures/export.js';

export function createMountProcedures(deps: MountDeps): ProcedureDef[] {
  const t: ProcedureDef[] = [];
  t[MountProc.NULL] = mountNullProcedure();
  t[MountProc.MNT] = mntProcedure(deps);
  t[MountProc.DUMP] = dumpProcedure(deps);
  t[MountProc.UMNT] = umntProcedure(deps);
  t[MountProc.UMNTALL] = umntallProcedure(deps);
  t[MountProc.EXPORT] = exportProcedure(deps);
  return t;
}

export function createMountProgram(env: MountEnv): RpcProgram & { readonly mountList: MountList } {
  const mountList = env.mountList ?? new MountList();
  return {
    number: MOUNT_PROGRAM,
    name: 'mountd',
    versions: new Map([[MOUNT_V3, createMountProcedures({ exports: env.exports, gate: env.gate, mountList })]]),
    mountList,
  };
}
