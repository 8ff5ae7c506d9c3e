/**
 * RPC-level outcomes (RFC 5531), kept apart from any program's own status
 * codes. accept_stat and reject_stat/auth_stat are separate enums, as on the wire.
 */
export const AcceptStat = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;
export type AcceptStatName = keyof typeof AcceptStat;

export const RejectStat = {
  RPC_MISMATCH: 0,
  AUTH_ERROR: 1,
} as const;

export const AuthStat = {
  AUTH_OK: 0,
  AUTH_BADCRED: 1,
  AUTH_REJECTEDCRED: 2,
  AUTH_BADVERF: 3,
  AUTH_REJECTEDVERF: 4,
  AUTH_TOOWEAK: 5,
  AUTH_INVALIDRESP: 6,
  AUTH_FAILED: 7,
} as const;
export type AuthStatName = keyof typeof AuthStat;

/** Thrown by a handler to answer with an accept_stat other than SUCCESS. */
export class RpcAcceptError extends Error {
  readonly code: AcceptStatName;
  constructor(code: Exclude<AcceptStatName, 'SUCCESS' | 'PROG_MISMATCH'>, message?: string) {
    super(message ?? code);
    this.name = 'RpcAcceptError';
    this.code = code;
  }
}

/** Thrown by a handler to deny the call with AUTH_ERROR. */
export class RpcAuthError extends Error {
  readonly code: AuthStatName;
  constructor(code: Exclude<AuthStatName, 'AUTH_OK'>, message?: string) {
    super(message ?? code);
    this.name = 'RpcAuthError';
    this.code = code;
  }
}

/** Transport/framing problems on a connection. The connection is closed; the process is not. */
export type RpcTransportErrorCode =
  | 'RPC_RECORD_TOO_LARGE'
  | 'RPC_BAD_RECORD'
  | 'RPC_CONNECTION_CLOSED'
  | 'RPC_TIMEOUT';

export class RpcTransportError extends Error {
  readonly code: RpcTransportErrorCode;
  constructor(code: RpcTransportErrorCode, message: string) {
    super(message);
    this.name = 'RpcTransportError';
    this.code = code;
  }
}
