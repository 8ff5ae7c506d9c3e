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
 * another — is NFS4ERR_DENIED with its holder. After a restart (docs/nfs4.md, "Restart and grace"):
 * in the grace period, and before the client's RECLAIM_COMPLETE, only reclaims may lock
 * (NFS4ERR_GRACE); a reclaim is NFS4ERR_NO_GRACE outside the grace period, after the client's
 * RECLAIM_COMPLETE or from a client without a stable record, and NFS4ERR_RECLAIM_CONFLICT when it
 * conflicts with a lock another owner reclaimed.
 */
export const lock: OpRow<12> = {
  async handler(a: Lock4Args, c: Compound): Promise<Lock4Res> {
    const state = c.env.state;
    if (a.reclaim) {
      const g = state.recovery.grace.mayReclaim(c.client!);
      if (g !== 0) return { status: g } as Lock4Res;
    } else if (!c.client!.reclaimComplete || state.inGrace()) return { status: Nfs4Stat.GRACE } as Lock4Res;
    const range = rangeOf(a.offset, a.length);
    if (!range) return { status: Nfs4Stat.INVAL };
    const l = a.locker;
    const sid = stateidArg(c, l.newLockOwner ? l.openStateid : l.lockStateid);
    if (typeof sid === 'number') return { status: sid } as Lock4Res;
    try {
      const v = await verifyCurrent(c, { type: 'reg' });
      const locker = l.newLockOwner ? { open: sid, owner: l.lockOwner.owner } : { lock: sid };
      // The grace period may have ended while this reclaim waited for the file system.
      const late = a.reclaim ? state.recovery.grace.mayReclaim(c.client!) : 0;
      if (late !== 0) return { status: late } as Lock4Res;
      const r = state.files.lock(c.client!, fileKey(v), lockKind(a.locktype), range.start, range.end, locker);
      if (r.status === Nfs4Stat.DENIED) {
        if (a.reclaim) return { status: Nfs4Stat.RECLAIM_CONFLICT } as Lock4Res;
        return { status: r.status, denied: denied((r as { holder: LockHolder }).holder) };
      }
      if (r.status !== 0) return { status: r.status } as Lock4Res;
      if (a.reclaim) state.recovery.grace.reclaimed('lock');
      // A courtesy client's removal this lock depends on is on disk before it is answered.
      const pending = state.recovery.idle();
      if (pending) await pending;
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
