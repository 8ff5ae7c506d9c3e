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
