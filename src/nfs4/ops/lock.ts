import { LockType4, Nfs4Stat } from '../constants.js';
import type { Lock4Args, Lock4Denied, Lock4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { lengthOf, rangeOf, type LockHolder, type LockKind } from '../state/index.js';
import { fileKey, stateidArg, toNfs4Stat, verifyCurrent } from './common.js';

/** READW / WRITEW ask to block: answered at once like READ / WRITE (the client polls). */
export function lockKind(t: number): LockKind {
  return t === LockType4.WRITE || t === LockType4.WRITEW ? 'write' : 'read';
}

/** LOCK4denied for the lock a request ran into. */
export function denied(h: LockHolder): Lock4Denied {
  return {
    offset: h.start,
    length: lengthOf(h),
    locktype: h.kind === 'write' ? LockType4.WRITE : LockType4.READ,
    owner: { clientid: h.clientid, owner: h.owner },
  };
}

/**
 * LOCK (RFC 8881 section 18.10): a POSIX byte-range lock for a new lock owner (through its open
 * stateid) or an existing lock state. A conflicting lock of another owner — of this client or
 * another — is NFS4ERR_DENIED with its holder. Reclaims are NFS4ERR_NO_GRACE (no grace period).
 */
export const lock: OpRow<12> = {
  async handler(a: Lock4Args, c: Compound): Promise<Lock4Res> {
    if (a.reclaim) return { status: Nfs4Stat.NO_GRACE };
    const range = rangeOf(a.offset, a.length);
    if (!range) return { status: Nfs4Stat.INVAL };
    const l = a.locker;
    const sid = stateidArg(c, l.newLockOwner ? l.openStateid : l.lockStateid);
    if (typeof sid === 'number') return { status: sid } as Lock4Res;
    try {
      const v = await verifyCurrent(c, { type: 'reg' });
      const locker = l.newLockOwner ? { open: sid, owner: l.lockOwner.owner } : { lock: sid };
      const r = c.env.state.files.lock(c.client!, fileKey(v), lockKind(a.locktype), range.start, range.end, locker);
      if (r.status === Nfs4Stat.DENIED) return { status: r.status, denied: denied((r as { holder: LockHolder }).holder) };
      if (r.status !== 0) return { status: r.status } as Lock4Res;
      const st = (r as { state: { seqid: number; other: Buffer } }).state;
      const lockStateid = { seqid: st.seqid, other: st.other };
      c.stateid = lockStateid;
      return { status: 0, lockStateid };
    } catch (e) {
      return { status: toNfs4Stat(e) } as Lock4Res;
    }
  },
  fh: true,
  modifies: true,
};
