import type { Credential } from './auth.js';

/** Where a call came from. */
export interface Peer {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6' | 'unix';
}

/**
 * What a program handler learns about one call. Handlers never see sockets
 * or bytes of other calls.
 */
export interface CallContext {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  cred: Credential;
  peer: Peer;
  /** Local address and port the call arrived on. */
  local: { address: string; port: number };
  /** Stable id of the connection (for logs and LOCALIO bindings). */
  connectionId: number;
  /**
   * Take over the call's argument bytes (views of the record, like WRITE data) beyond the handler:
   * the record is then not recycled when the call ends, but when the returned function is called.
   */
  keepArgs?: () => () => void;
}
