import { May, type Verified } from '../../export/types.js';
import type { Node, SetAttrs } from '../../storage/types.js';
import { createExclusive, createNew, holdsVerifier, lookupOrUndefined } from '../../vfs/create.js';
import { refuse } from '../../vfs/status.js';
import { permits } from '../../export/permission.js';
import { Attr4, CreateMode4, Nfs4Stat, Open4Result, Open4Share, OpenClaimType4 } from '../constants.js';
import type { Bitmap4, ChangeInfo4, Createhow4, Open4Args, Open4Res, OpenDelegation4 } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { bitmap4, bitmap4Bits, bitmap4From, bitmap4Minus, bitmap4IsEmpty } from '../codec/bitmap.js';
import { exclcreatAttrs, setAttrsOf } from '../attrs.js';
import { changeInfo, fileKey, toNfs4Stat, verifyCurrent } from './common.js';

/** open_delegation_type4 OPEN_DELEGATE_NONE. */
const OPEN_DELEGATE_NONE = 0;
const WANT_BITS = Open4Share.WANT_DELEG_MASK | Open4Share.WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | Open4Share.WANT_PUSH_DELEG_WHEN_UNCONTENDED;
/** The times that hold an exclusive create's verifier: the client sets them afterwards (knfsd says so in attrset). */
const VERIFIER_TIMES = bitmap4(Attr4.TIME_ACCESS, Attr4.TIME_MODIFY);
const NO_CINFO: ChangeInfo4 = { atomic: false, before: 0n, after: 0n };

/**
 * No delegations are granted (docs/nfs4.md). A client that asked for one gets OPEN_DELEGATE_NONE_EXT
 * with the reason, as knfsd answers: WND4_RESOURCE, or WND4_NOT_WANTED / WND4_CANCELLED for those wants.
 */
function noDelegation(want: number): OpenDelegation4 {
  switch (want & Open4Share.WANT_DELEG_MASK) {
    case Open4Share.WANT_NO_PREFERENCE: return { type: 0 };
    case Open4Share.WANT_NO_DELEG: return { type: 3, whynone: { why: 0 } };
    case Open4Share.WANT_CANCEL: return { type: 3, whynone: { why: 7 } };
    default: return { type: 3, whynone: { why: 2, flag: false } };
  }
}

interface Opened {
  node: Node;
  created: boolean;
  attrset: Bitmap4;
}

/** An existing object's type for OPEN: a directory is ISDIR, a symlink SYMLINK, anything else not regular WRONG_TYPE. */
async function checkRegular(dir: Verified, node: Node): Promise<void> {
  const t = (await dir.export.backend.getattr(node)).type;
  if (t === 'dir') refuse('EISDIR', 'a directory');
  if (t === 'lnk') refuse('ELOOP', 'a symbolic link');
  if (t !== 'reg') refuse('EWRONGTYPE', `a ${t}`);
}

/** OPEN4_CREATE in the directory: UNCHECKED4, GUARDED4, EXCLUSIVE4 and EXCLUSIVE4_1 (vfs/create.ts). */
async function openCreate(c: Compound, dir: Verified, name: string, how: Createhow4): Promise<Opened> {
  const exclusive = how.mode === CreateMode4.EXCLUSIVE || how.mode === CreateMode4.EXCLUSIVE4_1;
  let set: SetAttrs = {};
  if ('createattrs' in how) {
    if (how.mode === CreateMode4.EXCLUSIVE4_1 && !bitmap4IsEmpty(bitmap4Minus(how.createattrs.mask, exclcreatAttrs(c.minor)))) {
      refuse('EINVAL', 'EXCLUSIVE4_1 may only set the attributes of suppattr_exclcreat');
    }
    set = setAttrsOf(c.env, c.minor, how.createattrs);
  }
  const asked = 'createattrs' in how ? how.createattrs.mask : [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await lookupOrUndefined(dir, name);
    if (existing) {
      await checkRegular(dir, existing);
      const b = dir.export.backend;
      if (how.mode === CreateMode4.GUARDED) refuse('EEXIST', `"${name}" exists`);
      if (exclusive) {
        // A retransmission finds its own verifier in the file's times; anyone else's file is EXIST.
        if (!holdsVerifier(await b.getattr(existing), (how as { createverf: Buffer }).createverf)) refuse('EEXIST', `"${name}" exists`);
        return { node: existing, created: false, attrset: VERIFIER_TIMES };
      }
      if (set.size !== undefined) {
        // Truncating someone else's file is a write to it: the check SETATTR would make.
        const a = await b.getattr(existing);
        if (!permits(a, dir.identity, May.WRITE)) refuse('EACCES', `no write permission on "${name}"`);
        await b.setattr(existing, { size: set.size });
        return { node: existing, created: false, attrset: bitmap4(Attr4.SIZE) };
      }
      return { node: existing, created: false, attrset: [] };
    }
    try {
      if (exclusive) {
        const verf = (how as { createverf: Buffer }).createverf;
        const made = await createExclusive(dir, name, verf, set);
        return { node: made.node, created: made.created, attrset: bitmap4From([...bitmap4Bits(VERIFIER_TIMES), ...bitmap4Bits(asked)]) };
      }
      return { node: await createNew(dir, name, set), created: true, attrset: asked };
    } catch (e) {
      // Lost a race with another creator: go round once more and open what it made.
      if ((e as { code?: string }).code !== 'EEXIST' || exclusive) throw e;
    }
  }
  refuse('EEXIST', `"${name}" keeps appearing and disappearing`);
}

/**
 * OPEN (RFC 8881 section 18.16) with CLAIM_NULL (a name in the current directory), CLAIM_FH (the
 * current filehandle) or CLAIM_PREVIOUS (a reclaim after a restart, of the current filehandle),
 * creating in any of the four modes; share access and deny checked between open owners
 * (NFS4ERR_SHARE_DENIED). The opened file becomes the current filehandle and its open stateid the
 * current stateid. The delegation claims are BAD_STATEID (no delegation was ever granted) or
 * NOTSUPP (DELEGATE_PREV). An existing file is opened with the caller's permission for the access
 * asked; a file this OPEN created is not checked again (its mode may forbid what its creator
 * asked, as open(O_CREAT) allows).
 *
 * Restart recovery (docs/nfs4.md, "Restart and grace"): in the grace period, and before the
 * client's RECLAIM_COMPLETE, only reclaims may open (NFS4ERR_GRACE, RFC 8881 sections 8.4.2.1 and
 * 18.51.3, as knfsd). A reclaim outside the grace period, after the client's RECLAIM_COMPLETE or
 * from a client without a stable record is NFS4ERR_NO_GRACE; one of a delegation is
 * NFS4ERR_RECLAIM_BAD (we never grant one: it cannot have existed); one whose share reservation
 * conflicts with another client's reclaim is NFS4ERR_RECLAIM_CONFLICT.
 */
export const open: OpRow<18> = {
  async handler(a: Open4Args, c: Compound): Promise<Open4Res> {
    const access = a.shareAccess & Open4Share.ACCESS_BOTH;
    if (access === 0 || (a.shareAccess & ~(Open4Share.ACCESS_BOTH | WANT_BITS)) !== 0 || a.shareDeny > Open4Share.DENY_BOTH) {
      return { status: Nfs4Stat.INVAL };
    }
    const claim = a.claim;
    if (claim.claim === OpenClaimType4.DELEGATE_CUR || claim.claim === OpenClaimType4.DELEG_CUR_FH) return { status: Nfs4Stat.BAD_STATEID };
    if (claim.claim !== OpenClaimType4.NULL && claim.claim !== OpenClaimType4.FH && claim.claim !== OpenClaimType4.PREVIOUS) return { status: Nfs4Stat.NOTSUPP };
    const state = c.env.state;
    const reclaim = claim.claim === OpenClaimType4.PREVIOUS;
    if (reclaim) {
      const g = state.recovery.grace.mayReclaim(c.client!);
      if (g !== 0) return { status: g };
      if (claim.delegateType !== OPEN_DELEGATE_NONE) return { status: Nfs4Stat.RECLAIM_BAD };
      if (a.openhow.opentype === 1) return { status: Nfs4Stat.INVAL };
    } else if (!c.client!.reclaimComplete || state.inGrace()) return { status: Nfs4Stat.GRACE };
    try {
      let opened: Opened;
      let cinfo = NO_CINFO;
      let exp;
      if (claim.claim === OpenClaimType4.NULL) {
        const create = a.openhow.opentype === 1;
        const dir = await verifyCurrent(c, { type: 'dir', may: create ? May.WRITE | May.EXEC : May.EXEC });
        exp = dir.export;
        if (a.openhow.opentype === 1) opened = await openCreate(c, dir, claim.file, a.openhow.how);
        else {
          const node = await dir.export.backend.lookup(dir.node, claim.file);
          await checkRegular(dir, node);
          opened = { node, created: false, attrset: [] };
        }
        cinfo = changeInfo(dir.attrs, await dir.export.backend.getattr(dir.node));
      } else {
        // CLAIM_FH and CLAIM_PREVIOUS: the current filehandle.
        if (a.openhow.opentype === 1) return { status: Nfs4Stat.INVAL };
        const v = await verifyCurrent(c, { type: 'reg' });
        exp = v.export;
        opened = { node: v.node, created: false, attrset: [] };
      }
      const fh = c.env.gate.compose(exp, opened.node);
      const may = opened.created ? May.NONE : (access & Open4Share.ACCESS_READ ? May.READ : 0) | (access & Open4Share.ACCESS_WRITE ? May.WRITE : 0);
      const file = await c.env.gate.verify(fh, c.caller(), { type: 'reg', may });
      // The open holds the file: removed while open, it stays readable and writable until CLOSE.
      const key = fileKey(file);
      const hold = state.files.files.get(key)?.release === undefined ? await file.export.backend.hold?.(file.node) : undefined;
      // The grace period may have ended while this reclaim waited for the file system.
      const late = reclaim ? state.recovery.grace.mayReclaim(c.client!) : 0;
      if (late !== 0) {
        hold?.();
        return { status: late };
      }
      const r = state.files.open(c.client!, a.owner.owner, key, fh, access, a.shareDeny, hold);
      if (r.status !== 0) return { status: reclaim && r.status === Nfs4Stat.SHARE_DENIED ? Nfs4Stat.RECLAIM_CONFLICT : r.status };
      if (reclaim) state.recovery.grace.reclaimed('open');
      // A record change this OPEN may depend on (the client's own, a courtesy client's removal) is on disk before it is answered.
      const pending = state.recovery.idle();
      if (pending) await pending;
      const stateid = { seqid: r.state.seqid, other: r.state.other };
      c.fh = fh;
      c.stateid = stateid;
      return { status: 0, stateid, cinfo, rflags: Open4Result.LOCKTYPE_POSIX, attrset: opened.attrset, delegation: noDelegation(a.shareAccess) };
    } catch (e) {
      return { status: toNfs4Stat(e) };
    }
  },
  fh: true,
  modifies: true,
};
