import type { MountStatus } from './constants.js';

/** mountres3: the handle and flavors on success, the status alone otherwise. */
export type MntRes =
  | { status: 0; fhandle: Buffer; authFlavors: number[] }
  | { status: Exclude<MountStatus, 0> };

/** One mountbody: who mounted what (knfsd/mountd's rmtab line). */
export interface MountEntry {
  hostname: string;
  directory: string;
}

/** One exportnode: a path and the host patterns it is exported to. */
export interface ExportNode {
  dir: string;
  groups: string[];
}
