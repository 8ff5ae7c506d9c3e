/**
 * fattr4 (struct fattr4 { bitmap4 attrmask; attrlist4 attr_vals; }): the
 * attribute values of the bits of attrmask, in bit order, inside an opaque
 * whose length must be exactly what they take.
 *
 * Encoding takes a typed Fattr4 and sends the bits of its mask that the
 * codec knows and that have a value (fattr4Select builds the mask by the
 * RFC's rule: the attributes both requested and supported). Decoding gives
 * the same shape back, in one of two modes:
 * - 'any': every attribute the codec knows (GETATTR replies, READDIR
 *   entries, VERIFY / NVERIFY); an unknown bit is NFS4ERR_ATTRNOTSUPP since
 *   its length is unknown and nothing after it can be read;
 * - 'settable': what a client may set (SETATTR, CREATE, OPEN); a read-only
 *   attribute is NFS4ERR_INVAL and an unknown or unsettable-here one
 *   NFS4ERR_ATTRNOTSUPP, as knfsd's nfsd4_decode_fattr4 decides (INVAL only
 *   when every bit is one we know).
 * Either way the attrlist4 length is checked against maxAttrBytes before
 * anything else and against what the values took after (NFS4ERR_BADXDR).
 */
import { XdrReader, type XdrWriter } from '../../xdr/index.js';
import type { Bitmap4, Fattr4, Fattr4Values } from '../types.js';
import { bitmap4And, bitmap4Bits, bitmap4From, readBitmap4, writeBitmap4 } from './bitmap.js';
import { Nfs4CodecError } from './errors.js';
import { ATTR_BY_BIT, type AttrRow } from './fattr4-table.js';
import type { Nfs4Limits } from './limits.js';

export type Fattr4Mode = 'any' | 'settable';

/**
 * The Fattr4 to send for a request: the attributes both `requested` and
 * `supported` (RFC 8881 section 5); those without a value in `values` are
 * dropped when encoding.
 */
export function fattr4Select(requested: Bitmap4, supported: Bitmap4, values: Fattr4Values): Fattr4 {
  return { mask: bitmap4And(requested, supported), values };
}

/** The rows encodeFattr4 will write for `a`, in bit order: known to the codec, with a value. */
function present(a: Fattr4): AttrRow[] {
  const rows: AttrRow[] = [];
  for (const bit of bitmap4Bits(a.mask)) {
    const row = ATTR_BY_BIT.get(bit);
    if (row !== undefined && a.values[row.key] !== undefined) rows.push(row);
  }
  return rows;
}

/** The mask encodeFattr4 will send for `a` (the bits it can and will write). */
export function fattr4SentMask(a: Fattr4): Bitmap4 {
  return bitmap4From(present(a).map((r) => r.bit));
}

export function encodeFattr4(w: XdrWriter, a: Fattr4): void {
  const rows = present(a);
  writeBitmap4(w, bitmap4From(rows.map((r) => r.bit)));
  const at = w.reserve32();
  const start = w.length;
  for (const row of rows) row.write(w, a.values[row.key] as never);
  w.patch32(at, w.length - start);
}

export function decodeFattr4(r: XdrReader, lim: Nfs4Limits, mode: Fattr4Mode = 'any'): Fattr4 {
  const mask = readBitmap4(r, lim, (bit) => {
    throw new Nfs4CodecError('NFS4_ATTR_NOTSUPP', `attribute ${bit} is not supported`);
  });
  const rows = rowsFor(mask, mode);
  const len = r.uint32();
  if (len > lim.maxAttrBytes) throw new Nfs4CodecError('NFS4_TOO_LONG', `attrlist4 of ${len} bytes exceeds ${lim.maxAttrBytes}`);
  const list = new XdrReader(r.fixedOpaque(len));
  const values: Fattr4Values = {};
  try {
    for (const row of rows) (values as Record<string, unknown>)[row.key] = row.read(list, lim);
  } catch (e) {
    const err = Nfs4CodecError.from(e);
    // Running out of the attrlist is a length that does not match its contents.
    if (err.code === 'NFS4_SHORT') throw new Nfs4CodecError('NFS4_ATTRLIST_LENGTH', `attrlist4 of ${len} bytes is too short for its bitmap`, { cause: e });
    throw err;
  }
  if (list.remaining !== 0) {
    throw new Nfs4CodecError('NFS4_ATTRLIST_LENGTH', `attrlist4 of ${len} bytes has ${list.remaining} bytes past its bitmap's values`);
  }
  return { mask, values };
}

/**
 * rowsFor's answers for the masks seen last: a READDIR reply carries the same mask on every entry,
 * so its rows are worked out once. Bounded by starting over.
 */
const ROWS_SEEN = new Map<string, AttrRow[]>();
const ROWS_SEEN_MAX = 64;

let lastAny: { mask: Bitmap4; rows: AttrRow[] } = { mask: [], rows: [] };

function sameMask(a: Bitmap4, b: Bitmap4): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function rowsFor(mask: Bitmap4, mode: Fattr4Mode): AttrRow[] {
  // The same mask as the entry before (the rest of a READDIR reply): no key to build.
  if (mode === 'any' && sameMask(mask, lastAny.mask)) return lastAny.rows;
  const key = mode === 'any' ? mask.join(',') : `s${mask.join(',')}`;
  let rows = ROWS_SEEN.get(key);
  if (rows === undefined) {
    rows = rowsOf(mask, mode);
    if (ROWS_SEEN.size >= ROWS_SEEN_MAX) ROWS_SEEN.clear();
    ROWS_SEEN.set(key, rows);
  }
  if (mode === 'any') lastAny = { mask, rows };
  return rows;
}

function rowsOf(mask: Bitmap4, mode: Fattr4Mode): AttrRow[] {
  const rows: AttrRow[] = [];
  let unknown = -1;
  let readOnly = -1;
  for (const bit of bitmap4Bits(mask)) {
    const row = ATTR_BY_BIT.get(bit);
    if (row === undefined) {
      if (unknown < 0) unknown = bit;
    } else if (mode === 'settable' && !row.settable) {
      if (readOnly < 0) readOnly = bit;
    } else rows.push(row);
  }
  if (unknown >= 0) throw new Nfs4CodecError('NFS4_ATTR_NOTSUPP', `attribute ${unknown} is not supported`);
  if (readOnly >= 0) throw new Nfs4CodecError('NFS4_ATTR_READONLY', `attribute ${readOnly} cannot be set`);
  return rows;
}
