/**
 * Errors of the NFSv4 codec. Every failure to decode is an Nfs4CodecError
 * with a stable `code` (what went wrong) and the nfsstat4 a server answers
 * the operation with (`status`). XdrErrors from the reader become
 * NFS4ERR_BADXDR; the checks RFC 8881 puts on arguments while they are
 * read (names, times, settable attributes) carry their own statuses, as
 * knfsd's decoders return them (check_filename, nfsd4_decode_fattr4).
 */
import { XdrError } from '../../xdr/index.js';
import { Nfs4Stat, type Nfs4Error } from '../constants.js';

export type Nfs4CodecErrorCode =
  /** Ran out of bytes: truncated. */
  | 'NFS4_SHORT'
  /** A count or length over its bound (a limit of ours or the XDR's). */
  | 'NFS4_TOO_LONG'
  /** A bad boolean, enum or union discriminant, or trailing garbage in a bounded item. */
  | 'NFS4_BAD_VALUE'
  /** attrlist4's length is not what the bitmap's attributes take. */
  | 'NFS4_ATTRLIST_LENGTH'
  /** A bitmap names an attribute the codec does not know (or may not set). */
  | 'NFS4_ATTR_NOTSUPP'
  /** A bitmap of attributes to set names one that is read-only. */
  | 'NFS4_ATTR_READONLY'
  /** A component4 of zero bytes. */
  | 'NFS4_NAME_EMPTY'
  /** A component4 longer than the limit. */
  | 'NFS4_NAME_TOO_LONG'
  /** A component4 that is ".", "..", or holds '/' or NUL. */
  | 'NFS4_NAME_BAD'
  /** A component4 that is not valid UTF-8. */
  | 'NFS4_NAME_NOT_UTF8'
  /** An nfstime4 with nseconds of a second or more. */
  | 'NFS4_TIME_BAD'
  /** Encoding: a reply would hold two spliced tails (one socket write can carry only one). */
  | 'NFS4_TWO_TAILS'
  /** Decoding a reply: an op number the codec does not know. */
  | 'NFS4_UNKNOWN_OP';

const STATUS: Record<Nfs4CodecErrorCode, Nfs4Error> = {
  NFS4_SHORT: Nfs4Stat.BADXDR,
  NFS4_TOO_LONG: Nfs4Stat.BADXDR,
  NFS4_BAD_VALUE: Nfs4Stat.BADXDR,
  NFS4_ATTRLIST_LENGTH: Nfs4Stat.BADXDR,
  NFS4_ATTR_NOTSUPP: Nfs4Stat.ATTRNOTSUPP,
  NFS4_ATTR_READONLY: Nfs4Stat.INVAL,
  NFS4_NAME_EMPTY: Nfs4Stat.INVAL,
  NFS4_NAME_TOO_LONG: Nfs4Stat.NAMETOOLONG,
  NFS4_NAME_BAD: Nfs4Stat.BADNAME,
  NFS4_NAME_NOT_UTF8: Nfs4Stat.INVAL,
  NFS4_TIME_BAD: Nfs4Stat.INVAL,
  NFS4_TWO_TAILS: Nfs4Stat.SERVERFAULT,
  NFS4_UNKNOWN_OP: Nfs4Stat.BADXDR,
};

const FROM_XDR = { XDR_SHORT: 'NFS4_SHORT', XDR_TOO_LONG: 'NFS4_TOO_LONG', XDR_BAD_VALUE: 'NFS4_BAD_VALUE' } as const;

export class Nfs4CodecError extends Error {
  readonly code: Nfs4CodecErrorCode;
  /** The nfsstat4 a server answers the operation with. */
  readonly status: Nfs4Error;

  constructor(code: Nfs4CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Nfs4CodecError';
    this.code = code;
    this.status = STATUS[code];
  }

  /**
   * The codec error for what a decoder threw: XdrErrors translated, codec
   * errors as they are. Anything else is a bug, not bad input: rethrown.
   */
  static from(e: unknown): Nfs4CodecError {
    if (e instanceof Nfs4CodecError) return e;
    if (e instanceof XdrError) return new Nfs4CodecError(FROM_XDR[e.code], e.message, { cause: e });
    throw e;
  }
}

/** Run a decoder; whatever bad input makes it throw comes out as an Nfs4CodecError. */
export function decoding<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw Nfs4CodecError.from(e);
  }
}
