/**
 * Pieces every operation codec uses: the nfsstat4 that opens each result,
 * the status-only results, and the void arguments.
 */
import type { XdrReader, XdrWriter } from '../../xdr/index.js';
import type { Nfs4Error, Nfs4Status } from '../constants.js';
import type { NoArgs, Status4Res } from '../types.js';
import { Nfs4CodecError } from './errors.js';

/** An nfsstat4 from a reply: any value (a newer server may send codes we do not name). */
export function readStatus(r: XdrReader): Nfs4Status {
  return r.uint32() as Nfs4Status;
}

/** Decode `ok` after NFS4_OK, nothing after a failure: the shape of most results. */
export function readResult<T extends object>(r: XdrReader, ok: (r: XdrReader) => T): ({ status: 0 } & T) | { status: Nfs4Error } {
  const status = readStatus(r);
  if (status !== 0) return { status };
  return { status: 0, ...ok(r) };
}

// struct X4res { nfsstat4 status; };
export function encodeStatus4Res(w: XdrWriter, res: Status4Res): void {
  w.uint32(res.status);
}
export function decodeStatus4Res(r: XdrReader): Status4Res {
  return { status: readStatus(r) };
}

// void arguments (GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH, READLINK, RESTOREFH, SAVEFH)
export function decodeNoArgs(): NoArgs {
  return undefined;
}
export function encodeNoArgs(): void {}

/** A discriminant that has no arm: bad XDR. */
export function badArm(what: string, v: number): never {
  throw new Nfs4CodecError('NFS4_BAD_VALUE', `bad ${what} ${v}`);
}
