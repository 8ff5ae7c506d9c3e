import type { BindConnToSession4Args, BindConnToSession4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';

/**
 * BIND_CONN_TO_SESSION (RFC 8881 section 18.34): this connection joins the session's fore
 * channel, back channel or both (FORE_OR_BOTH and BACK_OR_BOTH get both, as knfsd). No RDMA.
 */
export const bindConnToSession: OpRow<41> = {
  handler(a: BindConnToSession4Args, c: Compound): BindConnToSession4Res {
    const r = c.env.state.clients.bindConnection(a.sessid, a.dir, c.ctx.connectionId);
    if (r.status !== 0) return r;
    return { status: 0, sessid: a.sessid, dir: r.dir, useConnInRdmaMode: false };
  },
};
