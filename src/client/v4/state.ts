/**
 * What our FileHandles hold on an NFSv4 server: an OPEN each (its own open
 * owner, so every handle has its own stateid and closing one never touches
 * another), and for the handles that lock, a lock owner and its lock
 * stateid. The registry knows every open, because state must outlive the
 * server: after a restart the session layer asks for a reclaim and each
 * open is re-established with CLAIM_PREVIOUS and its locks with reclaim
 * LOCKs, in the grace period; when SEQUENCE says state was revoked, every
 * stateid is tested (TEST_STATEID), the dead ones freed (FREE_STATEID), and
 * only the handles that held them fail from then on — with EIO and the
 * server's nfsstat4, which is what Linux gives for lost state.
 */
import { randomBytes } from 'node:crypto';
import { Nfs4Op, Nfs4Stat, NFS4_UINT64_MAX, LockType4, nfs4StatName } from '../../nfs4/constants.js';
import type { Locker4, Stateid4 } from '../../nfs4/types.js';
import { NfsError } from '../errors.js';
import { clientChannel } from '../transport.js';
import type { FileState, LockOptions } from '../filehandle.js';
import type { Nfs4Session } from './session.js';
import { nfs4Error } from './status.js';
import { LockRanges, rangeEnd, rangeLength } from './locks.js';

/** The anonymous stateid (all zeros): I/O and SETATTR of a file we have not opened. */
export const ANON_STATEID: Stateid4 = Object.freeze({ seqid: 0, other: Buffer.alloc(12) }) as Stateid4;

/** Errors that say something about the stateid a call carried (not about the file). */
export const STATE_ERRORS = new Set<number>([
  Nfs4Stat.BAD_STATEID,
  Nfs4Stat.OLD_STATEID,
  Nfs4Stat.STALE_STATEID,
  Nfs4Stat.EXPIRED,
  Nfs4Stat.ADMIN_REVOKED,
  Nfs4Stat.DELEG_REVOKED,
]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class OpenState implements FileState {
  lock?: Stateid4;
  readonly locks = new LockRanges();
  /** Set once the server no longer has this state: every later use throws it. */
  lost?: NfsError;
  /** Bumped whenever the stateids are replaced (reclaim): a call built before carries an old one. */
  gen = 0;
  closed = false;

  constructor(
    private readonly reg: Nfs4State,
    readonly fh: Buffer,
    /** For messages: the path it was opened by. */
    public path: string,
    /** OPEN4_SHARE_ACCESS_READ / _WRITE / _BOTH. */
    readonly access: number,
    readonly owner: Buffer,
    readonly lockOwner: Buffer,
    public open: Stateid4,
  ) {}

  get stateid(): Stateid4 {
    this.check();
    return this.lock ?? this.open;
  }

  check(): void {
    if (this.lost) throw this.lost;
  }

  ready(): Promise<void> | undefined {
    return this.reg.ready();
  }

  close(): Promise<void> {
    return this.reg.close(this);
  }

  lockRange(o: LockOptions): Promise<void> {
    return this.reg.lock(this, o);
  }

  unlockRange(o: LockOptions): Promise<void> {
    return this.reg.unlock(this, o);
  }
}

function lockRangeOf(o: LockOptions): { offset: bigint; length: bigint } {
  const offset = BigInt(o.start ?? 0);
  const len = o.length === undefined || o.length === Infinity ? 0n : BigInt(o.length);
  if (offset < 0n || len < 0n) throw new NfsError('EINVAL', { syscall: 'fcntl', description: 'negative lock range' });
  // POSIX: a length of 0 means "to the end of the file", which NFSv4 spells all-ones.
  return { offset, length: len === 0n ? NFS4_UINT64_MAX : len };
}

export class Nfs4State {
  readonly opens = new Set<OpenState>();
  readonly stats = { opens: 0, closes: 0, locks: 0, lockWaits: 0, reclaimedOpens: 0, reclaimedLocks: 0, lost: 0, tests: 0 };
  private n = 0;
  private readonly tag = randomBytes(6).toString('hex');
  /** A TEST_STATEID round after SEQUENCE said state was revoked: calls carrying stateids wait for it. */
  checking?: Promise<void>;

  constructor(private readonly s: Nfs4Session) {
    s.hooks.reclaim = () => this.reclaimAll();
    s.hooks.revoked = () => {
      this.checking ??= this.testAll()
        .catch(() => undefined)
        .finally(() => {
          this.checking = undefined;
        });
    };
  }

  /**
   * LOCALIO I/O never meets the server, so it never learns that the lease ran out (the process was
   * stopped, the server unreachable) and the state with it: before such I/O, when the server has not
   * answered for most of a lease, a SEQUENCE first — recovery and the lost handles follow from it.
   */
  ready(): Promise<void> | undefined {
    if (this.checking) return this.checking;
    return this.s.renewIfStale();
  }

  /** A new open or lock owner: unique within this client (the server scopes owners by client id). */
  owner(kind: 'open' | 'lock'): Buffer {
    return Buffer.from(`${kind}-${this.tag}-${++this.n}`);
  }

  adopt(fh: Buffer, path: string, access: number, owner: Buffer, stateid: Stateid4): OpenState {
    const st = new OpenState(this, fh, path, access, owner, this.owner('lock'), stateid);
    this.opens.add(st);
    this.stats.opens++;
    return st;
  }

  /** Unlock what is held, free the lock stateid, CLOSE. State the server no longer has needs nothing. */
  async close(st: OpenState): Promise<void> {
    if (st.closed) return;
    st.closed = true;
    this.stats.closes++;
    try {
      if (st.lost) return;
      if (st.lock) {
        if (!st.locks.empty) await this.s.compound(() => [putfh(st.fh), { op: Nfs4Op.LOCKU, args: { locktype: LockType4.WRITE, seqid: 0, lockStateid: st.lock!, offset: 0n, length: NFS4_UINT64_MAX } }], { label: 'close', cache: true });
        st.locks.clear();
        await this.s.compound(() => [{ op: Nfs4Op.FREE_STATEID, args: { stateid: st.lock! } }], { label: 'close', cache: true });
      }
      const r = await this.s.compound(() => [putfh(st.fh), { op: Nfs4Op.CLOSE, args: { seqid: 0, openStateid: st.open } }], { label: 'close', cache: true });
      if (r.status !== 0 && !STATE_ERRORS.has(r.status) && r.status !== Nfs4Stat.STALE) throw nfs4Error(r.status, 'close', st.path);
    } finally {
      this.opens.delete(st);
    }
  }

  /** fh.lock(): LOCK, polling with backoff while another owner holds the range and `wait` is set. */
  async lock(st: OpenState, o: LockOptions): Promise<void> {
    const { offset, length } = lockRangeOf(o);
    const exclusive = o.exclusive ?? true;
    for (let tries = 0; ; tries++) {
      st.check();
      const used = st.gen;
      // A waiting locker says so (READW/WRITEW): a server may then queue it fairly (RFC 8881 section 9.6).
      const locktype = exclusive ? (o.wait ? LockType4.WRITEW : LockType4.WRITE) : o.wait ? LockType4.READW : LockType4.READ;
      const r = await this.s.compound(
        () => [
          putfh(st.fh),
          {
            op: Nfs4Op.LOCK,
            args: {
              locktype,
              reclaim: false,
              offset,
              length,
              locker: this.locker(st),
            },
          },
        ],
        { label: 'lock', cache: true },
      );
      const res = r.results[1];
      if (res?.op === Nfs4Op.LOCK && res.res.status === 0) {
        st.lock = res.res.lockStateid;
        st.locks.add(offset, rangeEnd(offset, length), exclusive);
        this.stats.locks++;
        return;
      }
      if (r.status === Nfs4Stat.DENIED) {
        if (!o.wait) throw nfs4Error(r.status, 'fcntl', st.path, 'the range is locked by another owner');
        if (o.signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: o.signal.reason });
        this.stats.lockWaits++;
        // Linux polls a blocked NFSv4 lock from 1 s doubling to 30 s; locks here are local and short: 50 ms to 2 s.
        await sleep(Math.min(50 * 2 ** Math.min(tries, 6), 2000));
        continue;
      }
      if (STATE_ERRORS.has(r.status) && (await this.stateError(st, r.status, used))) continue;
      throw nfs4Error(r.status, 'fcntl', st.path);
    }
  }

  /** locker4: the handle's lock stateid once it has one; before that its lock owner, new to the server, with the open stateid (seqids are 0: sessions order requests). */
  private locker(st: OpenState): Locker4 {
    return st.lock
      ? { newLockOwner: false, lockStateid: st.lock, lockSeqid: 0 }
      : { newLockOwner: true, openSeqid: 0, openStateid: st.open, lockSeqid: 0, lockOwner: { clientid: this.s.clientid, owner: st.lockOwner } };
  }

  async unlock(st: OpenState, o: LockOptions): Promise<void> {
    const { offset, length } = lockRangeOf(o);
    for (;;) {
      st.check();
      if (!st.lock) return; // nothing was ever locked: unlocking is a no-op, as fcntl's
      const used = st.gen;
      const r = await this.s.compound(
        () => [putfh(st.fh), { op: Nfs4Op.LOCKU, args: { locktype: LockType4.WRITE, seqid: 0, lockStateid: st.lock!, offset, length } }],
        { label: 'unlock', cache: true },
      );
      const res = r.results[1];
      if (res?.op === Nfs4Op.LOCKU && res.res.status === 0) {
        st.lock = res.res.lockStateid;
        st.locks.remove(offset, rangeEnd(offset, length));
        return;
      }
      if (STATE_ERRORS.has(r.status) && (await this.stateError(st, r.status, used))) continue;
      throw nfs4Error(r.status, 'fcntl', st.path);
    }
  }

  /**
   * A call carrying `st`'s stateid (built at generation `used`) failed with a state error: true when
   * it is worth sending again (the stateids changed meanwhile, or the server restarted and recovery put
   * them back); otherwise the state is gone and `st` is marked lost (and that error thrown).
   */
  async stateError(st: OpenState, status: number, used: number): Promise<boolean> {
    if (st.gen !== used) return true;
    if (status === Nfs4Stat.OLD_STATEID) return true; // a LOCK/LOCKU raced the call: the next one carries the newest
    if (status === Nfs4Stat.STALE_STATEID) {
      await this.s.recover('stale stateid');
      return st.gen !== used || !st.lost;
    }
    await this.testAll();
    if (st.lost) throw st.lost;
    return st.gen !== used;
  }

  /** TEST_STATEID on every stateid we hold; those the server no longer knows are freed and their handles fail. */
  async testAll(): Promise<void> {
    const ids: Array<{ st: OpenState; id: Stateid4; kind: 'open' | 'lock' }> = [];
    for (const st of this.opens) {
      if (st.lost || st.closed) continue;
      ids.push({ st, id: st.open, kind: 'open' });
      if (st.lock) ids.push({ st, id: st.lock, kind: 'lock' });
    }
    for (let i = 0; i < ids.length; i += 256) {
      const part = ids.slice(i, i + 256);
      this.stats.tests++;
      const r = await this.s.compound(() => [{ op: Nfs4Op.TEST_STATEID, args: { stateids: part.map((x) => x.id) } }], { label: 'test_stateid' });
      const res = r.results[0];
      if (res?.op !== Nfs4Op.TEST_STATEID || res.res.status !== 0) continue;
      const codes = res.res.statusCodes;
      for (let j = 0; j < part.length; j++) {
        const code = codes[j] ?? Nfs4Stat.BAD_STATEID;
        if (code === 0) continue;
        const { st, id, kind } = part[j];
        await this.s.compound(() => [{ op: Nfs4Op.FREE_STATEID, args: { stateid: id } }], { label: 'free_stateid' }).catch(() => undefined);
        this.markLost(st, code, `the server revoked this file's ${kind} state (${nfs4StatName(code)})`);
      }
    }
  }

  private markLost(st: OpenState, status: number, why: string): void {
    if (st.lost) return;
    if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'nfs4.lost', path: st.path, status: nfs4StatName(status), why });
    // The error is the handle's, whatever call meets it: EIO, as Linux reports lost NFSv4 state.
    st.lost = new NfsError('EIO', { syscall: undefined, path: st.path, nfsstat4: status, description: why });
    this.stats.lost++;
  }

  /** After a server restart, in its grace period: every open by CLAIM_PREVIOUS, then its locks with reclaim set. */
  async reclaimAll(): Promise<void> {
    for (const st of [...this.opens]) {
      if (st.lost || st.closed) continue;
      const r = await this.s.compound(
        () => [
          putfh(st.fh),
          {
            op: Nfs4Op.OPEN,
            args: {
              seqid: 0,
              shareAccess: st.access,
              shareDeny: 0,
              owner: { clientid: this.s.clientid, owner: st.owner },
              openhow: { opentype: 0 },
              claim: { claim: 1, delegateType: 0 },
            },
          },
        ],
        { label: 'reclaim', cache: true, recovery: true, noRetry: true },
      );
      const res = r.results[1];
      if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'nfs4.reclaim', kind: 'open', path: st.path, status: nfs4StatName(r.status) });
      if (res?.op !== Nfs4Op.OPEN || res.res.status !== 0) {
        this.markLost(st, r.status, `the open could not be reclaimed after the server restarted (${nfs4StatName(r.status)})`);
        continue;
      }
      st.open = res.res.stateid;
      st.lock = undefined;
      st.gen++;
      this.stats.reclaimedOpens++;
      for (const h of st.locks.held) {
        const lr = await this.s.compound(
          () => [
            putfh(st.fh),
            {
              op: Nfs4Op.LOCK,
              args: {
                locktype: h.exclusive ? LockType4.WRITE : LockType4.READ,
                reclaim: true,
                offset: h.start,
                length: rangeLength(h),
                locker: this.locker(st),
              },
            },
          ],
          { label: 'reclaim', cache: true, recovery: true, noRetry: true },
        );
        const l = lr.results[1];
        if (clientChannel.hasSubscribers) clientChannel.publish({ event: 'nfs4.reclaim', kind: 'lock', path: st.path, status: nfs4StatName(lr.status) });
        if (l?.op !== Nfs4Op.LOCK || l.res.status !== 0) {
          this.markLost(st, lr.status, `a lock could not be reclaimed after the server restarted (${nfs4StatName(lr.status)})`);
          break;
        }
        st.lock = l.res.lockStateid;
        this.stats.reclaimedLocks++;
      }
    }
  }
}

export function putfh(fh: Buffer): { op: typeof Nfs4Op.PUTFH; args: { object: Buffer } } {
  return { op: Nfs4Op.PUTFH, args: { object: fh } };
}
