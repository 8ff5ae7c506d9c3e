import type { Status4Res } from '../types.js';
import type { Compound } from '../compound.js';
import type { OpRow } from '../optable-types.js';
import { toNfs4Stat } from './common.js';

/**
 * PUTROOTFH (RFC 8881 section 18.21): the root of the pseudo-filesystem (or the export of "/"
 * itself). The current stateid is cleared with the filehandle (16.2.3.1.2).
 */
export async function putRoot(c: Compound): Promise<Status4Res> {
  try {
    const r = await c.env.exports.namespace.root();
    c.fh = c.env.gate.compose(r.exp, r.node);
    c.stateid = undefined;
    return { status: 0 };
  } catch (e) {
    return { status: toNfs4Stat(e) };
  }
}

export const putrootfh: OpRow<24> = { handler: (_a, c) => putRoot(c) };

/** PUTPUBFH (18.20): the public filehandle is the root here, as with knfsd. */
export const putpubfh: OpRow<23> = { handler: (_a, c) => putRoot(c) };
