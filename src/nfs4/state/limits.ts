/**
 * Bounds on NFSv4 state. Every one is checked before a record is made: past it the operation
 * answers NFS4ERR_RESOURCE (a count a client cannot raise by waiting) or NFS4ERR_DELAY (one that
 * frees itself), so no client can make the server's memory grow without bound.
 */
export interface StateLimits {
  /** Client records (confirmed or not). */
  readonly clients: number;
  /** Sessions of one client, and of all clients. */
  readonly sessionsPerClient: number;
  readonly sessions: number;
  /** Slots granted per session (the fore channel's ca_maxrequests is cut to this). */
  readonly slots: number;
  /** Bytes of one cached reply (ca_maxresponsesize_cached is cut to this). */
  readonly cachedReply: number;
  /** Open and lock owners of one client. */
  readonly ownersPerClient: number;
  /** Open and lock states (stateids) of all clients. */
  readonly states: number;
  /** Byte-range locks on one file. */
  readonly locksPerFile: number;
  /** Operations in one COMPOUND (ca_maxoperations is cut to this). */
  readonly ops: number;
}

export const DEFAULT_STATE_LIMITS: StateLimits = Object.freeze({
  clients: 1024,
  sessionsPerClient: 16,
  sessions: 256,
  slots: 32,
  cachedReply: 4096,
  ownersPerClient: 16384,
  states: 131072,
  locksPerFile: 4096,
  ops: 64,
});
