/** NFSv4.1/4.2 (RFC 8881, RFC 7862, RFC 8276): constants, types and the wire codec (docs/nfs4.md). */
export * from './constants.js';
export type * from './types.js';
export * from './codec.js';
