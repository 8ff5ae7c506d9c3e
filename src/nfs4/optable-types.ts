import type { Nfs4ArgsMap, Nfs4KnownOp, Nfs4ResMap } from './types.js';
import type { Compound } from './compound.js';

/** SEQUENCE's answer for a retransmission: the reply its slot kept, sent instead of running anything. */
export interface Replay {
  replay: Buffer;
}

/**
 * One row of the operation table (knfsd's nfsd4_operation): the handler and what the runner
 * needs to know about it.
 */
export interface OpRow<K extends Nfs4KnownOp> {
  handler(args: Nfs4ArgsMap[K], c: Compound): Promise<Nfs4ResMap[K] | Replay> | Nfs4ResMap[K] | Replay;
  /** Needs a current filehandle (NFS4ERR_NOFILEHANDLE otherwise). */
  fh?: boolean;
  /** Changes something: ticks the change clock shared with NFSv3. */
  modifies?: boolean;
  /** Bytes of data the reply may carry (READ, READDIR ...), checked against the session's bounds first. */
  size?(args: Nfs4ArgsMap[K], c: Compound): number;
  /** Data bytes moved, for metrics. */
  bytes?(res: Nfs4ResMap[K]): number;
}

export type OpTable = { readonly [K in Nfs4KnownOp]?: OpRow<K> };
