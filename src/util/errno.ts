/** Errors with a Node-style errno `code`, the currency of every layer (storage, gate, LOCALIO). */

/** An Error carrying `code` (ENOENT, EACCES, ...). */
export function errnoError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** The string `code` of an error-like value, if it has one. */
export function codeOf(e: unknown): string | undefined {
  const c = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}
