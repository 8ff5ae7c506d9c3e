/**
 * A session's slot table: NFSv4.1's duplicate request cache (RFC 8881 section 2.10.6). Each slot
 * runs one request at a time; its sequence id moves by one per new request. A request whose
 * sequence id equals the slot's is a retransmission: answered from the reply the slot kept —
 * never executed twice — or NFS4ERR_DELAY while the original still runs, or
 * NFS4ERR_RETRY_UNCACHED_REP when the reply was not kept. A retransmission whose bytes differ
 * from the original's is NFS4ERR_SEQ_FALSE_RETRY; any other sequence id NFS4ERR_SEQ_MISORDERED.
 * What a slot keeps is bounded by the session's cached-reply size, so a table holds at most
 * slots × that many bytes.
 */
import { Nfs4Stat, type Nfs4Error } from '../constants.js';

export interface Slot {
  /** The sequence id of the last request begun on this slot (0 before any). */
  seqid: number;
  /** A request runs on it now. */
  busy: boolean;
  /** The last request's reply (COMPOUND4res bytes), 'uncached' when it was not kept. */
  reply?: Buffer | 'uncached';
  /** Fingerprint of the last request's arguments (length and CRC-32), for SEQ_FALSE_RETRY. */
  fingerprint?: string;
}

export type SlotUse =
  | { kind: 'new'; slot: Slot }
  | { kind: 'replay'; reply: Buffer }
  | { kind: 'error'; status: Nfs4Error };

export class SlotTable {
  readonly slots: Slot[];

  constructor(count: number) {
    this.slots = Array.from({ length: count }, () => ({ seqid: 0, busy: false }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Requests running now. */
  busy(): number {
    return this.slots.reduce((n, s) => n + (s.busy ? 1 : 0), 0);
  }

  /** Bytes of replies kept. */
  cachedBytes(): number {
    return this.slots.reduce((n, s) => n + (Buffer.isBuffer(s.reply) ? s.reply.length : 0), 0);
  }

  /** What a SEQUENCE for (slotid, seqid) of arguments `fingerprint` gets. */
  use(slotid: number, seqid: number, fingerprint: string): SlotUse {
    const slot = this.slots[slotid];
    if (slot === undefined) return { kind: 'error', status: Nfs4Stat.BADSLOT };
    const expected = slot.seqid === 0xffffffff ? 1 : slot.seqid + 1;
    if (seqid === expected) {
      // A new request may not start while the previous one on the slot still runs.
      if (slot.busy) return { kind: 'error', status: Nfs4Stat.DELAY };
      slot.seqid = seqid;
      slot.busy = true;
      slot.reply = undefined;
      slot.fingerprint = fingerprint;
      return { kind: 'new', slot };
    }
    if (seqid === slot.seqid && slot.seqid !== 0) {
      if (slot.busy) return { kind: 'error', status: Nfs4Stat.DELAY };
      if (slot.fingerprint !== fingerprint) return { kind: 'error', status: Nfs4Stat.SEQ_FALSE_RETRY };
      if (slot.reply === undefined || slot.reply === 'uncached') return { kind: 'error', status: Nfs4Stat.RETRY_UNCACHED_REP };
      return { kind: 'replay', reply: slot.reply };
    }
    return { kind: 'error', status: Nfs4Stat.SEQ_MISORDERED };
  }

  /** The request on `slot` ended; `reply` is what a retransmission will get (or 'uncached'). */
  finish(slot: Slot, reply: Buffer | 'uncached'): void {
    slot.busy = false;
    slot.reply = reply;
  }
}
