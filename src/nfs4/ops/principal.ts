import type { Compound } from '../compound.js';

/**
 * Who is asking, as the client-record principal checks compare it (EXCHANGE_ID's collisions,
 * CREATE_SESSION's CLID_INUSE): the AUTH_SYS uid, or AUTH_NONE.
 */
export function principalOf(c: Compound): string {
  const cred = c.ctx.cred;
  return cred.flavor === 'sys' ? `sys:${cred.uid}` : 'none';
}
