/**
 * Stateids as RFC 8881 section 8.2 defines them: a 12-byte `other` naming a piece of state and a
 * 32-bit `seqid` that moves each time that state changes. Ours are
 * `other` = [4-byte server epoch][8-byte counter], so a stateid from another server instance is
 * told apart from one never issued. The special stateids (8.2.3) are recognised here, and the
 * generation rules (8.2.2) checked: in NFSv4.1 a seqid of 0 means "the current one", an older
 * seqid is NFS4ERR_OLD_STATEID and a newer one (never issued) NFS4ERR_BAD_STATEID.
 */
import { Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { Stateid4 } from '../types.js';

export const OTHER_SIZE = 12;
const ZERO_OTHER = Buffer.alloc(OTHER_SIZE);
const ONES_OTHER = Buffer.alloc(OTHER_SIZE, 0xff);
export const UINT32_MAX = 0xffffffff;

/** The special stateids: anonymous (all zero), READ bypass (all ones), current, invalid. */
export type SpecialStateid = 'anonymous' | 'bypass' | 'current' | 'invalid';

/**
 * Which special stateid `s` is, 'bad' for another combination of an all-zero or all-one `other`
 * (NFS4ERR_BAD_STATEID), undefined for an ordinary one.
 */
export function specialStateid(s: Stateid4): SpecialStateid | 'bad' | undefined {
  if (s.other.equals(ZERO_OTHER)) {
    if (s.seqid === 0) return 'anonymous';
    if (s.seqid === 1) return 'current';
    if (s.seqid === UINT32_MAX) return 'invalid';
    return 'bad';
  }
  if (s.other.equals(ONES_OTHER)) return s.seqid === UINT32_MAX ? 'bypass' : 'bad';
  return undefined;
}

export const ANONYMOUS_STATEID: Readonly<Stateid4> = Object.freeze({ seqid: 0, other: ZERO_OTHER });
/** What CLOSE returns in NFSv4.1 (RFC 8881 section 18.2.4: the state is gone). */
export const INVALID_STATEID: Readonly<Stateid4> = Object.freeze({ seqid: UINT32_MAX, other: ZERO_OTHER });

/** The seqid after `seqid`: 0 is never reused once passed (it means "current" on the wire). */
export function nextSeqid(seqid: number): number {
  return seqid === UINT32_MAX ? 1 : seqid + 1;
}

/** 8.2.2's generation check of a client's seqid against the state's current one. */
export function checkGeneration(given: number, current: number): 0 | Nfs4Error {
  if (given === 0 || given === current) return 0;
  // "From the future": a seqid never issued (serial-number arithmetic, as knfsd).
  if (((given - current) | 0) > 0) return Nfs4Stat.BAD_STATEID;
  return Nfs4Stat.OLD_STATEID;
}

/** Mints `other` values for one server instance. */
export class StateidMint {
  private next = 1n;
  /** The epoch is never 0 or all ones, so no minted `other` looks special. */
  constructor(readonly epoch: number) {
    if (epoch === 0 || epoch === UINT32_MAX || !Number.isInteger(epoch) || epoch < 0 || epoch > UINT32_MAX) {
      throw new RangeError(`bad stateid epoch ${epoch}`);
    }
  }

  other(): Buffer {
    const b = Buffer.allocUnsafe(OTHER_SIZE);
    b.writeUInt32BE(this.epoch, 0);
    b.writeBigUInt64BE(this.next++, 4);
    return b;
  }

  /** Whether `other` was minted by this instance (false: another server's, or a restart's). */
  mine(other: Buffer): boolean {
    return other.length === OTHER_SIZE && other.readUInt32BE(0) === this.epoch;
  }
}

/** A stateid's `other` as a map key. */
export function otherKey(other: Buffer): string {
  return other.toString('hex');
}
