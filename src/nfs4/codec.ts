/** The NFSv4 wire codec (spec/nfs4.x), split by concern; see codec/*.ts and docs/nfs4.md "Codec". */
export * from './codec/errors.js';
export * from './codec/limits.js';
export * from './codec/basic.js';
export * from './codec/bitmap.js';
export * from './codec/fattr4.js';
export { ATTR_ROWS, KNOWN_ATTRS, SETTABLE_ATTRS, type AttrRow } from './codec/fattr4-table.js';
export * from './codec/chunks.js';
export * from './codec/common.js';
export * from './codec/ops-fh.js';
export * from './codec/ops-dir.js';
export * from './codec/ops-io.js';
export * from './codec/ops-state.js';
export * from './codec/ops-deleg.js';
export * from './codec/ops-session.js';
export * from './codec/ops-pnfs.js';
export * from './codec/ops-xattr.js';
export * from './codec/table.js';
export * from './codec/compound.js';
