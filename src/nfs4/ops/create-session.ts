import type { CreateSession4Args, CreateSession4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { principalOf } from './principal.js';

/**
 * CREATE_SESSION (RFC 8881 section 18.36): confirms the client record, with its own sequence id
 * (a retransmission gets the first answer); the fore channel's sizes are cut to our bounds; the
 * back channel is granted on this connection when asked (see docs/nfs4.md: we never call back,
 * but the Linux client wants the channel there and then re-binds it after a reconnect).
 */
export const createSession: OpRow<43> = {
  handler(a: CreateSession4Args, c: Compound): CreateSession4Res {
    return c.env.state.clients.createSession({
      clientid: a.clientid,
      sequence: a.sequence,
      flags: a.flags,
      fore: a.foreChanAttrs,
      back: a.backChanAttrs,
      cbProgram: a.cbProgram,
      principal: principalOf(c),
      connection: c.ctx.connectionId,
    }, c.env.state.leaseMs);
  },
  modifies: false,
};
