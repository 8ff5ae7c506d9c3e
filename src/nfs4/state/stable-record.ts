/**
 * One stable client record as bytes (docs/nfs4.md, "Restart and grace"): what the server keeps
 * on disk of a client so that, after a restart, it knows the client may reclaim. knfsd's
 * nfsdcld keeps the same per client — its name (co_ownerid) and principal — and nothing per open
 * or lock: writing those would cost a synchronous disk write per OPEN, CLOSE, LOCK and LOCKU.
 *
 *   0   8  magic "NFSL4CR\n"
 *   8   4  version (1)
 *   12  4  flags: bit 0 = some of the client's state was revoked before the restart
 *   16  8  when the record was written (ms since 1970)
 *   24  8  co_verifier
 *   32  4  owner length n (1..1024), then the owner, padded to 4 bytes
 *   ..  4  principal length p (0..256), then the principal (UTF-8), padded to 4 bytes
 *   ..  4  CRC-32 of everything before it
 *
 * Every length is checked against its bound and the bytes left before anything is allocated; a
 * record that is short, long, of another version or whose CRC does not match is a typed error,
 * never a partial record.
 */
import { crc32 } from 'node:zlib';
import { XdrError, XdrReader, XdrWriter } from '../../xdr/index.js';

export const RECORD_MAGIC = Buffer.from('NFSL4CR\n', 'latin1');
export const RECORD_VERSION = 1;
/** co_ownerid is an opaque<NFS4_OPAQUE_LIMIT>. */
export const MAX_OWNER = 1024;
export const MAX_PRINCIPAL = 256;
/** The largest a record can be; a file larger than this is refused unread. */
export const MAX_RECORD_BYTES = 2048;
const FLAG_REVOKED = 1;

/** What is kept of one client. */
export interface StableClient {
  /** co_ownerid: the client's name, the same across its own and the server's restarts. */
  readonly ownerId: Buffer;
  /** co_verifier: another one means the client restarted and holds nothing of before. */
  readonly verifier: Buffer;
  /** Who made the client (the principal checks of EXCHANGE_ID and CREATE_SESSION). */
  readonly principal: string;
  /** When the record was written (ms since 1970). */
  readonly since: number;
  /**
   * Some of the client's state was taken from it (revoked) before the restart: the server cannot
   * tell which of its reclaims are of state it lost, so it takes none (RFC 8881 section 8.4.3).
   */
  readonly revoked: boolean;
}

export type RecordErrorCode =
  | 'NFS4_RECORD_TORN' // shorter than its contents say: a write cut off
  | 'NFS4_RECORD_CORRUPT' // bad magic, CRC, flags, lengths or trailing bytes
  | 'NFS4_RECORD_VERSION' // a version this build does not read
  | 'NFS4_RECORD_OVERSIZED' // larger than any record can be
  | 'NFS4_RECORD_MISPLACED'; // its file name is not its owner's

export class RecordError extends Error {
  constructor(
    readonly code: RecordErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RecordError';
  }
}

/** The bytes of a record. */
export function encodeRecord(r: StableClient): Buffer {
  if (r.ownerId.length < 1 || r.ownerId.length > MAX_OWNER) throw new RangeError(`owner of ${r.ownerId.length} bytes`);
  if (r.verifier.length !== 8) throw new RangeError(`verifier of ${r.verifier.length} bytes`);
  const principal = Buffer.from(r.principal, 'utf8');
  if (principal.length > MAX_PRINCIPAL) throw new RangeError(`principal of ${principal.length} bytes`);
  const w = new XdrWriter(96 + r.ownerId.length + principal.length);
  w.fixedOpaque(RECORD_MAGIC);
  w.uint32(RECORD_VERSION);
  w.uint32(r.revoked ? FLAG_REVOKED : 0);
  w.uint64(BigInt(Math.max(0, Math.floor(r.since))));
  w.fixedOpaque(r.verifier);
  w.opaque(r.ownerId);
  w.opaque(principal);
  const body = w.finish();
  const out = Buffer.allocUnsafe(body.length + 4);
  body.copy(out);
  out.writeUInt32BE(crc32(body) >>> 0, body.length);
  return out;
}

/** A record from its bytes; a RecordError for anything but a whole, intact record of this version. */
export function decodeRecord(b: Buffer): StableClient {
  if (b.length > MAX_RECORD_BYTES) throw new RecordError('NFS4_RECORD_OVERSIZED', `${b.length} bytes, at most ${MAX_RECORD_BYTES}`);
  if (b.length < RECORD_MAGIC.length + 4) throw new RecordError('NFS4_RECORD_TORN', `only ${b.length} bytes`);
  if (!b.subarray(0, RECORD_MAGIC.length).equals(RECORD_MAGIC)) throw new RecordError('NFS4_RECORD_CORRUPT', 'not a client record (magic)');
  const version = b.readUInt32BE(RECORD_MAGIC.length);
  if (version !== RECORD_VERSION) throw new RecordError('NFS4_RECORD_VERSION', `version ${version}, this build reads ${RECORD_VERSION}`);
  const r = new XdrReader(b, RECORD_MAGIC.length + 4);
  let rec: StableClient;
  try {
    const flags = r.uint32();
    if ((flags & ~FLAG_REVOKED) !== 0) throw new RecordError('NFS4_RECORD_CORRUPT', `unknown flags ${flags}`);
    const since = Number(r.uint64());
    const verifier = r.fixedOpaque(8);
    const ownerId = r.opaque(MAX_OWNER);
    if (ownerId.length === 0) throw new RecordError('NFS4_RECORD_CORRUPT', 'an empty owner');
    const principal = r.opaque(MAX_PRINCIPAL);
    rec = { ownerId: Buffer.from(ownerId), verifier: Buffer.from(verifier), principal: principal.toString('utf8'), since, revoked: (flags & FLAG_REVOKED) !== 0 };
  } catch (e) {
    if (e instanceof RecordError) throw e;
    if (e instanceof XdrError && e.code === 'XDR_SHORT') throw new RecordError('NFS4_RECORD_TORN', `cut off: ${e.message}`);
    throw new RecordError('NFS4_RECORD_CORRUPT', (e as Error).message);
  }
  const end = r.offset;
  if (b.length < end + 4) throw new RecordError('NFS4_RECORD_TORN', 'no checksum');
  if (b.length > end + 4) throw new RecordError('NFS4_RECORD_CORRUPT', `${b.length - end - 4} bytes after the checksum`);
  if (b.readUInt32BE(end) !== crc32(b.subarray(0, end)) >>> 0) throw new RecordError('NFS4_RECORD_CORRUPT', 'checksum mismatch');
  return rec;
}
