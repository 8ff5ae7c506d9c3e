/** The export layer: exports(5), host matching, squashing, permissions, file handles and the gate. */
export * from './types.js';
export {
  ExportsSyntaxError,
  parseExports,
  parseExportsWithWarnings,
  formatExports,
  formatOptions,
  formatPath,
  defaultExportOptions,
  ANON_ID,
  type ExportsWarning,
} from './exports-file.js';
export {
  matchClient,
  matchHostIndex,
  hostMatches,
  parseHostPattern,
  canonicalAddress,
  isSameHost,
  DnsHostResolver,
  getDefaultResolver,
  HostPatternError,
  type HostPattern,
  type HostResolver,
  type DnsResolverOptions,
} from './match.js';
export { squash } from './squash.js';
export { permits, modeAllows, accessMask, mayDelete, stickyAllows, ownerFor, isOwner, inGroup, Access3, ACCESS3_ALL } from './permission.js';
export { modeBeforeWrite, setidForSetattr, modeOnCreate } from './setid.js';
export { encodeFh, encodeFhCompact, decodeFh, loadOrCreateSecret, defaultStateDir, FH_MAX, SECRET_LEN } from './fh.js';
export { ExportTable, exportIdForPath, type ExportTableOptions } from './table.js';
export { normalizePath, splitPath, PathError, MAX_PATH, MAX_COMPONENT } from './path.js';
