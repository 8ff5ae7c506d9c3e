import { Nfs4Stat } from '../constants.js';
import type { Sequence4Args, Sequence4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow, Replay } from '../optable-types.js';

/** Bytes of a COMPOUND reply around the results and SEQUENCE's own (RPC header, status, tag, count). */
const REPLY_OVERHEAD = 128;

/**
 * SEQUENCE (RFC 8881 section 18.46): the session and slot of this COMPOUND, its lease renewed. A
 * retransmission on the slot is answered with the reply the slot kept (the runner sends those
 * bytes and runs nothing). The rest of the COMPOUND must fit the session's reply size, and, when
 * the client asks for the reply to be kept, what a slot keeps.
 */
export const sequence: OpRow<53> = {
  handler(a: Sequence4Args, c: Compound): Sequence4Res | Replay {
    // Not even this SEQUENCE's own reply would fit what a slot may keep (RFC 8881 section 18.46.3).
    const named = c.env.state.clients.session(a.sessionid);
    if (named && a.cachethis && named.fore.maxResponseSizeCached < REPLY_OVERHEAD) return { status: Nfs4Stat.REP_TOO_BIG_TO_CACHE };
    const use = c.env.state.sequence(a, c.fingerprint, c.ctx.connectionId, c.opCount, c.requestSize);
    if (use.kind === 'error') return { status: use.status };
    if (use.kind === 'replay') return { replay: use.reply };
    const s = use.session;
    c.session = s;
    c.slot = use.slot;
    c.client = s.client;
    c.cachethis = a.cachethis;
    c.room = s.fore.maxResponseSize - REPLY_OVERHEAD;
    c.cacheRoom = a.cachethis ? s.fore.maxResponseSizeCached - REPLY_OVERHEAD : Infinity;
    const high = s.slots.size - 1;
    return {
      status: 0,
      sessionid: s.id,
      sequenceid: a.sequenceid,
      slotid: a.slotid,
      highestSlotid: high,
      targetHighestSlotid: high,
      statusFlags: use.statusFlags,
    };
  },
};
