/**
 * Errors raised while decoding XDR. Every decode failure is an XdrError with a
 * stable `code`; the RPC layer turns it into GARBAGE_ARGS, never a crash.
 */
export type XdrErrorCode = 'XDR_SHORT' | 'XDR_TOO_LONG' | 'XDR_BAD_VALUE';

export class XdrError extends Error {
  readonly code: XdrErrorCode;
  constructor(code: XdrErrorCode, message: string) {
    super(message);
    this.name = 'XdrError';
    this.code = code;
  }
}
