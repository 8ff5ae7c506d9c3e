/** MOUNT v3 (RFC 1813 Appendix I). */
export * from './constants.js';
export type * from './types.js';
export * from './codec.js';
export { MountList, DEFAULT_MOUNT_LIST_MAX } from './mount-list.js';
export { toMountStat } from './status.js';
export type { MountEnv } from './env.js';
export { createMountProgram, createMountProcedures } from './program.js';
