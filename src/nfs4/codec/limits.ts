/**
 * The bounds every NFSv4 decoder enforces before it allocates: counts and
 * lengths read from the wire are checked against these first (and against
 * the bytes actually left), so a hostile peer cannot make us allocate by
 * declaring a large count. Both directions take them: the server decoding
 * a COMPOUND, the client decoding a reply.
 */
import { NFS4_OPAQUE_LIMIT } from '../constants.js';

export interface Nfs4Limits {
  /** Operations decoded from one COMPOUND (more are not looked at: Compound4Decoded.truncated). */
  readonly maxOps: number;
  /** Bytes of a COMPOUND tag (knfsd: NFSD4_MAX_TAGLEN, 128). */
  readonly maxTag: number;
  /** Bytes of a component4 (a file or xattr name). */
  readonly maxName: number;
  /** Bytes of an owner or owner_group string and of the opaque owners, ids and scopes (NFS4_OPAQUE_LIMIT). */
  readonly maxOwner: number;
  /** Words of a bitmap4 that are kept (more are read past while the record holds them: bitmap.ts). */
  readonly maxBitmapWords: number;
  /** Bytes of one attrlist4 (fattr4's values). */
  readonly maxAttrBytes: number;
  /** Bytes of WRITE data, of READ / READ_PLUS data a client accepts, of an xattr value. */
  readonly maxData: number;
  /** Bytes of a linktext4 (symlink target). */
  readonly maxLink: number;
  /** Elements of any other counted array (stateids, flavors, layouts, xattr names, pathname components ...). */
  readonly maxArray: number;
  /** Bytes of any other opaque (layout and device bodies, GSS handles, SSV, security OIDs). */
  readonly maxOpaque: number;
}

/** Defaults: generous for real clients and servers, small enough that no single item is costly. */
export const DEFAULT_NFS4_LIMITS: Nfs4Limits = Object.freeze({
  maxOps: 64,
  maxTag: 128,
  maxName: 255,
  maxOwner: NFS4_OPAQUE_LIMIT,
  maxBitmapWords: 8,
  maxAttrBytes: 64 * 1024,
  maxData: (1 << 20) + 4096,
  maxLink: 4096,
  maxArray: 1024,
  maxOpaque: 64 * 1024,
});

/** The defaults with some bounds changed. */
export function nfs4Limits(over: Partial<Nfs4Limits> = {}): Nfs4Limits {
  return Object.freeze({ ...DEFAULT_NFS4_LIMITS, ...over });
}
