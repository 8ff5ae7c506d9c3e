/** NFSv3 (RFC 1813): program table, codec, types and the errno → nfsstat3 mapping. */
export * from './constants.js';
export type * from './types.js';
export * from './codec.js';
export { toNfsStat } from './status.js';
export type { Nfs3Env } from './env.js';
export { createNfs3Program, createNfs3Procedures } from './program.js';
export { toFattr3, toNfstime } from './attrs.js';
