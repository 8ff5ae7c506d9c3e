import type { Verified } from '../export/types.js';
import type { Attrs, Node } from '../storage/types.js';
import { isExportRoot } from './common.js';

/**
 * How many entries to ask the backend for, given the bytes left in a reply
 * and the smallest size one entry can take. One more than could possibly fit
 * so that a page that fills the reply also tells us whether more follow
 * (eof) without another call; capped so a huge count does not make the
 * backend materialise a whole 10,000-entry directory at once.
 */
export const MAX_PAGE = 1024;

export function pageLimit(bytesLeft: number, minEntry: number): number {
  if (bytesLeft <= 0) return 1;
  return Math.min(MAX_PAGE, Math.floor(bytesLeft / minEntry) + 1);
}

/**
 * "." (cookie 1) and ".." (cookie 2), listed ahead of the backend's entries
 * as knfsd and ganesha do: the Linux client shows exactly what READDIR
 * returns, so without them `ls -a` on a mount lacks both, and programs that
 * subtract 2 from an entry count are off. Backends never use cookies below
 * 3 (storage FIRST_COOKIE), so any cookie < 3 means "from the start" to them.
 * At the export root ".." is the root itself, as for LOOKUP.
 */
export interface DotEntry {
  name: '.' | '..';
  cookie: bigint;
  node: Node;
  attrs: Attrs;
}

export async function dotEntries(v: Verified, cookie: bigint): Promise<DotEntry[]> {
  if (cookie >= 2n) return [];
  const root = isExportRoot(v);
  const parent = root ? v.node : await v.export.backend.parent(v.node);
  const parentAttrs = root ? v.attrs : await v.export.backend.getattr(parent);
  const dots: DotEntry[] = [
    { name: '.', cookie: 1n, node: v.node, attrs: v.attrs },
    { name: '..', cookie: 2n, node: parent, attrs: parentAttrs },
  ];
  return cookie === 0n ? dots : dots.slice(1);
}
