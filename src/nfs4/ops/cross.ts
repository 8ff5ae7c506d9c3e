import type { Export } from '../../export/types.js';
import type { Node } from '../../storage/types.js';
import { errnoError } from '../../util/errno.js';
import type { Compound } from '../compound.js';

/**
 * Where a name looked up in `exp` leads, for this client: a pseudo directory it may not see is
 * ENOENT (exports(5) host rules: a client sees only what it may mount); at a junction — a pseudo
 * directory that is an export path, or a directory inside an export that another export covers —
 * the root of that export, when this client may use it (else the directory itself).
 */
export async function crossInto(c: Compound, exp: Export, node: Node): Promise<{ exp: Export; node: Node }> {
  const ns = c.env.exports.namespace;
  if (exp === c.env.exports.pseudo() && !(await ns.visible(node, c.ctx.peer))) throw errnoError('ENOENT', 'not exported to this client');
  const j = await ns.junction(exp, node);
  if (j && (await c.env.exports.optionsFor(j, c.ctx.peer))) return { exp: j, node: await j.backend.root() };
  return { exp, node };
}
