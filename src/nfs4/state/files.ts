/**
 * Open and lock state on files (RFC 8881 sections 9, 18.10-18.18, 18.38, 18.48): open owners'
 * share reservations (access and deny, NFS4ERR_SHARE_DENIED between owners), OPEN_DOWNGRADE to a
 * subset of the OPENs in effect, CLOSE (NFS4ERR_LOCKS_HELD while locks remain), lock owners'
 * POSIX byte-range locks (ranges.ts), and the stateids naming all of it with their seqids.
 * Plain data and rules: statuses are returned, nothing is sent anywhere.
 */
import { Nfs4Stat, type Nfs4Error } from '../constants.js';
import type { Stateid4 } from '../types.js';
import type { Status } from './clients.js';
import type { StateLimits } from './limits.js';
import { RangeLocks, type LockKind, type RangeLock } from './ranges.js';
import type { ClientRecord, FileRecord, LockState, OpenState, OwnerRecord, StateRecord } from './records.js';
import { checkGeneration, nextSeqid, otherKey, specialStateid, type StateidMint } from './stateid.js';

export const SHARE_READ = 1;
export const SHARE_WRITE = 2;

/** Who holds a lock a request conflicts with (LOCK4denied). */
export interface LockHolder {
  start: bigint;
  end: bigint;
  kind: LockKind;
  clientid: bigint;
  owner: Buffer;
}

function ownerKey(kind: 'open' | 'lock', c: ClientRecord, owner: Buffer): string {
  return `${kind}:${c.id}:${owner.toString('hex')}`;
}

export class Files {
  readonly files = new Map<string, FileRecord>();
  /** Every open and lock state, by `other` (hex). */
  readonly states = new Map<string, StateRecord>();
  /** Range-lock owner keys back to their records (LOCK4denied names the holder). */
  private readonly lockOwnersByKey = new Map<string, OwnerRecord>();
  /**
   * Courtesy (knfsd's courteous server): a client whose lease ran out keeps its state until
   * someone else's request conflicts with it; then the client goes (its state with it) and the
   * request is granted. Set by Nfs4State.
   */
  courtesy?: { expired(c: ClientRecord): boolean; expunge(c: ClientRecord): void };

  constructor(
    private readonly mint: StateidMint,
    private readonly limits: StateLimits,
  ) {}

  private file(key: string): FileRecord {
    let f = this.files.get(key);
    if (!f) {
      f = { key, opens: new Set(), locks: new RangeLocks(), lockStates: new Set() };
      this.files.set(key, f);
    }
    return f;
  }

  private maybeDropFile(f: FileRecord): void {
    if (f.opens.size > 0 || f.lockStates.size > 0) return;
    this.files.delete(f.key);
    f.release?.();
    f.release = undefined;
  }

  private owner(c: ClientRecord, kind: 'open' | 'lock', owner: Buffer): OwnerRecord | undefined {
    const map = kind === 'open' ? c.openOwners : c.lockOwners;
    const k = owner.toString('hex');
    let o = map.get(k);
    if (!o) {
      if (c.openOwners.size + c.lockOwners.size >= this.limits.ownersPerClient) return undefined;
      o = { kind, client: c, owner: Buffer.from(owner), states: new Map() };
      map.set(k, o);
      if (kind === 'lock') this.lockOwnersByKey.set(ownerKey('lock', c, owner), o);
    }
    return o;
  }

  private maybeDropOwner(o: OwnerRecord): void {
    if (o.states.size > 0) return;
    const k = o.owner.toString('hex');
    if (o.kind === 'open') o.client.openOwners.delete(k);
    else {
      o.client.lockOwners.delete(k);
      this.lockOwnersByKey.delete(ownerKey('lock', o.client, o.owner));
    }
  }

  /**
   * Whether a state of `c` conflicting with a request may be taken away: its client's lease ran
   * out. It is, then (courtesy), and the caller looks again.
   */
  private reclaimCourtesy(c: ClientRecord, requester: ClientRecord | undefined): boolean {
    if (c === requester || !this.courtesy?.expired(c)) return false;
    this.courtesy.expunge(c);
    return true;
  }

  /** A share reservation of `access`/`deny` conflicts with an open of another owner. */
  private shareConflict(f: FileRecord, access: number, deny: number, except: OpenState | undefined, requester: ClientRecord | undefined): boolean {
    for (const o of [...f.opens]) {
      if (o === except || !f.opens.has(o)) continue;
      if ((o.deny & access || o.access & deny) && !this.reclaimCourtesy(o.client, requester)) return true;
    }
    return false;
  }

  /**
   * OPEN's state: the owner's open of the file, made or upgraded by access/deny. NFS4ERR_SHARE_DENIED
   * when another owner's open denies what is asked or has what is denied. `release` lets go of a
   * hold on the file the caller took for it: kept by the file's record while it lives, else let go.
   */
  open(c: ClientRecord, ownerBytes: Buffer, key: string, fh: Buffer, access: number, deny: number, release?: () => void): Status<{ state: OpenState }> {
    const r = this.openState(c, ownerBytes, key, fh, access, deny);
    // The file record keeps one hold on the file (FileRecord.release) for as long as it lives.
    if (r.status === 0 && r.state.file.release === undefined) r.state.file.release = release;
    else release?.();
    return r;
  }

  private openState(c: ClientRecord, ownerBytes: Buffer, key: string, fh: Buffer, access: number, deny: number): Status<{ state: OpenState }> {
    const o = this.owner(c, 'open', ownerBytes);
    if (!o) return { status: Nfs4Stat.RESOURCE };
    const existing = o.states.get(key) as OpenState | undefined;
    if (this.files.has(key) && this.shareConflict(this.files.get(key)!, access, deny, existing, c)) {
      this.maybeDropOwner(o);
      return { status: Nfs4Stat.SHARE_DENIED };
    }
    const f = this.files.get(key);
    if (existing) {
      existing.access |= access;
      existing.deny |= deny;
      existing.modes.add(access | (deny << 2));
      existing.seqid = nextSeqid(existing.seqid);
      return { status: 0, state: existing };
    }
    if (this.states.size >= this.limits.states) {
      this.maybeDropOwner(o);
      return { status: Nfs4Stat.RESOURCE };
    }
    const file = f ?? this.file(key);
    const s: OpenState = {
      type: 'open',
      other: this.mint.other(),
      seqid: 1,
      client: c,
      owner: o,
      file,
      fh: Buffer.from(fh),
      access,
      deny,
      modes: new Set([access | (deny << 2)]),
      locks: new Set(),
    };
    file.opens.add(s);
    o.states.set(key, s);
    this.states.set(otherKey(s.other), s);
    return { status: 0, state: s };
  }

  /**
   * The state a client's stateid names (special stateids are the caller's): BAD_STATEID when it
   * is not ours, not this client's or not of the wanted type or file; OLD_STATEID / BAD_STATEID
   * for a seqid that is not the current one (8.2.2; 0 means current).
   */
  find(c: ClientRecord, sid: Stateid4, type?: 'open' | 'lock', key?: string): Status<{ state: StateRecord }> {
    if (specialStateid(sid) !== undefined || !this.mint.mine(sid.other)) return { status: Nfs4Stat.BAD_STATEID };
    const s = this.states.get(otherKey(sid.other));
    if (!s || s.client !== c) return { status: Nfs4Stat.BAD_STATEID };
    const gen = checkGeneration(sid.seqid, s.seqid);
    if (gen !== 0) return { status: gen };
    if ((type !== undefined && s.type !== type) || (key !== undefined && s.file.key !== key)) return { status: Nfs4Stat.BAD_STATEID };
    return { status: 0, state: s };
  }

  /**
   * OPEN_DOWNGRADE (18.18.3): access/deny must be exactly the union of some of the OPENs in
   * effect (NFS4ERR_INVAL otherwise); they become the only ones in effect.
   */
  downgrade(c: ClientRecord, sid: Stateid4, key: string, access: number, deny: number): Status<{ state: OpenState }> {
    const r = this.find(c, sid, 'open', key);
    if (r.status !== 0) return r;
    const s = r.state as OpenState;
    let a = 0;
    let d = 0;
    for (const m of s.modes) {
      const ma = m & 3;
      const md = m >> 2;
      if ((ma & ~access) === 0 && (md & ~deny) === 0) {
        a |= ma;
        d |= md;
      }
    }
    if (a !== access || d !== deny) return { status: Nfs4Stat.INVAL };
    s.access = access;
    s.deny = deny;
    s.modes.clear();
    s.modes.add(access | (deny << 2));
    s.seqid = nextSeqid(s.seqid);
    return { status: 0, state: s };
  }

  /** CLOSE (18.2): NFS4ERR_LOCKS_HELD while a lock state of the open still holds locks. */
  close(c: ClientRecord, sid: Stateid4, key: string): Nfs4Error | 0 {
    const r = this.find(c, sid, 'open', key);
    if (r.status !== 0) return r.status;
    const s = r.state as OpenState;
    for (const l of s.locks) if (s.file.locks.holds(ownerKey('lock', l.client, l.owner.owner))) return Nfs4Stat.LOCKS_HELD;
    this.dropOpen(s);
    return 0;
  }

  private dropLock(l: LockState): void {
    l.file.locks.release(ownerKey('lock', l.client, l.owner.owner));
    l.file.lockStates.delete(l);
    l.open.locks.delete(l);
    l.owner.states.delete(l.file.key);
    this.states.delete(otherKey(l.other));
    this.maybeDropOwner(l.owner);
    this.maybeDropFile(l.file);
  }

  private dropOpen(s: OpenState): void {
    for (const l of [...s.locks]) this.dropLock(l);
    s.file.opens.delete(s);
    s.owner.states.delete(s.file.key);
    this.states.delete(otherKey(s.other));
    this.maybeDropOwner(s.owner);
    this.maybeDropFile(s.file);
  }

  /** Everything a client holds goes (expiry, DESTROY_CLIENTID, a client restart). */
  dropClient(c: ClientRecord): void {
    for (const o of [...c.openOwners.values()]) for (const s of [...o.states.values()]) this.dropOpen(s as OpenState);
    for (const o of [...c.lockOwners.values()]) for (const s of [...o.states.values()]) this.dropLock(s as LockState);
  }

  /**
   * LOCK (18.10). `locker` names a new lock owner with the open it locks through, or an existing
   * lock state. The open must give the access the lock needs (NFS4ERR_OPENMODE); a conflicting
   * lock of another owner is NFS4ERR_DENIED with its holder.
   */
  lock(
    c: ClientRecord,
    key: string,
    kind: LockKind,
    start: bigint,
    end: bigint,
    locker: { open: Stateid4; owner: Buffer } | { lock: Stateid4 },
  ): Status<{ state: LockState }> | { status: typeof Nfs4Stat.DENIED; holder: LockHolder } {
    let state: LockState | undefined;
    let open: OpenState;
    if ('open' in locker) {
      const r = this.find(c, locker.open, 'open', key);
      if (r.status !== 0) return r;
      open = r.state as OpenState;
    } else {
      const r = this.find(c, locker.lock, 'lock', key);
      if (r.status !== 0) return r;
      state = r.state as LockState;
      open = state.open;
    }
    if (!(open.access & (kind === 'write' ? SHARE_WRITE : SHARE_READ))) return { status: Nfs4Stat.OPENMODE };
    const f = open.file;
    const ownerBytes = state ? state.owner.owner : (locker as { owner: Buffer }).owner;
    const okey = ownerKey('lock', c, ownerBytes);
    let held = f.locks.conflict(okey, kind, start, end);
    while (held && this.reclaimHolder(held, c)) held = f.locks.conflict(okey, kind, start, end);
    if (held) return { status: Nfs4Stat.DENIED, holder: this.holder(held) };
    if (f.locks.sizeAfterLock(okey, start, end) > this.limits.locksPerFile) return { status: Nfs4Stat.RESOURCE };
    if (!state) {
      const o = this.owner(c, 'lock', ownerBytes);
      if (!o) return { status: Nfs4Stat.RESOURCE };
      state = o.states.get(key) as LockState | undefined;
      if (!state) {
        if (this.states.size >= this.limits.states) {
          this.maybeDropOwner(o);
          return { status: Nfs4Stat.RESOURCE };
        }
        state = { type: 'lock', other: this.mint.other(), seqid: 0, client: c, owner: o, file: f, fh: open.fh, open };
        o.states.set(key, state);
        f.lockStates.add(state);
        open.locks.add(state);
        this.states.set(otherKey(state.other), state);
      }
    }
    f.locks.lock(okey, kind, start, end);
    state.seqid = nextSeqid(state.seqid);
    return { status: 0, state };
  }

  /** The holder of a conflicting lock is a courtesy client: it goes (true), the caller looks again. */
  private reclaimHolder(l: RangeLock, requester: ClientRecord): boolean {
    const o = this.lockOwnersByKey.get(l.owner);
    return o !== undefined && this.reclaimCourtesy(o.client, requester);
  }

  private holder(l: RangeLock): LockHolder {
    const o = this.lockOwnersByKey.get(l.owner);
    return { start: l.start, end: l.end, kind: l.kind, clientid: o?.client.id ?? 0n, owner: o?.owner ?? Buffer.alloc(0) };
  }

  /** LOCKT (18.11): the holder of a lock that would conflict with (owner, kind, range), if any. */
  test(c: ClientRecord, key: string, owner: Buffer, kind: LockKind, start: bigint, end: bigint): LockHolder | undefined {
    const f = this.files.get(key);
    const okey = ownerKey('lock', c, owner);
    let held = f?.locks.conflict(okey, kind, start, end);
    while (f && held && this.reclaimHolder(held, c)) held = f.locks.conflict(okey, kind, start, end);
    return held && this.holder(held);
  }

  /** LOCKU (18.12). */
  unlock(c: ClientRecord, key: string, sid: Stateid4, start: bigint, end: bigint): Status<{ state: LockState }> {
    const r = this.find(c, sid, 'lock', key);
    if (r.status !== 0) return r;
    const l = r.state as LockState;
    l.file.locks.unlock(ownerKey('lock', c, l.owner.owner), start, end);
    l.seqid = nextSeqid(l.seqid);
    return { status: 0, state: l };
  }

  /** FREE_STATEID (18.38): a lock state without locks goes; anything still in use is LOCKS_HELD. */
  free(c: ClientRecord, sid: Stateid4): Nfs4Error | 0 {
    const r = this.find(c, sid);
    if (r.status !== 0) return r.status;
    const s = r.state;
    if (s.type === 'open') return Nfs4Stat.LOCKS_HELD;
    if (s.file.locks.holds(ownerKey('lock', c, s.owner.owner))) return Nfs4Stat.LOCKS_HELD;
    this.dropLock(s);
    return 0;
  }

  /** TEST_STATEID (18.48): the status of one stateid. */
  testStateid(c: ClientRecord, sid: Stateid4): Nfs4Error | 0 {
    return this.find(c, sid).status;
  }

  /**
   * Whether READ (`write` false) or WRITE / a size change (`write` true) may go on with `sid` on
   * the file `key` (8.2.3, 9.1.2): a special stateid is checked against the deny modes of the
   * opens (NFS4ERR_LOCKED, as knfsd), the READ bypass stateid reads past them; an open or lock
   * state must be this file's, and a write needs the open's write access (NFS4ERR_OPENMODE).
   */
  checkIo(c: ClientRecord | undefined, key: string, sid: Stateid4, write: boolean): Nfs4Error | 0 {
    const sp = specialStateid(sid);
    if (sp === 'anonymous' || sp === 'bypass') {
      if (sp === 'bypass' && !write) return 0;
      const f = this.files.get(key);
      if (f && this.shareConflict(f, write ? SHARE_WRITE : SHARE_READ, 0, undefined, c)) return Nfs4Stat.LOCKED;
      return 0;
    }
    if (sp !== undefined || !c) return Nfs4Stat.BAD_STATEID;
    const r = this.find(c, sid, undefined, key);
    if (r.status !== 0) return r.status;
    const open = r.state.type === 'open' ? r.state : r.state.open;
    if (write && !(open.access & SHARE_WRITE)) return Nfs4Stat.OPENMODE;
    return 0;
  }

  /** Whether some open or lock state was made on this very handle (rare path: a linear look). */
  hasStateFor(fh: Buffer): boolean {
    for (const s of this.states.values()) if (s.fh.equals(fh)) return true;
    return false;
  }

  /** Counts for status and metrics. */
  counts(): { files: number; opens: number; lockStates: number; locks: number } {
    let opens = 0;
    let lockStates = 0;
    let locks = 0;
    for (const f of this.files.values()) {
      opens += f.opens.size;
      lockStates += f.lockStates.size;
      locks += f.locks.size;
    }
    return { files: this.files.size, opens, lockStates, locks };
  }

  /** The locks a lock state's owner holds on its file (status). */
  locksOf(l: LockState): RangeLock[] {
    const k = ownerKey('lock', l.client, l.owner.owner);
    return l.file.locks.all().filter((x) => x.owner === k);
  }
}
