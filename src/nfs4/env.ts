import type { ExportRegistry, FhGate, Export } from '../export/types.js';
import type { Namespace } from '../export/namespace.js';
import type { ChangeClock } from '../util/changes.js';
import type { Nfs4State } from './state/index.js';
import type { IdMapper } from './idmap.js';

/** One operation's outcome, for metrics (per op: calls, errors by nfsstat4, latency). */
export interface Nfs4OpEvent {
  op: number;
  name: string;
  status: number;
  durationNs: bigint;
  /** READ / WRITE data bytes. */
  bytes: number;
}

/**
 * What NFSv4 operations need from the server around them. Handlers reach storage only through
 * `gate.verify` (which yields the export, its backend and the node), state only through `state`,
 * and never see sockets or bytes.
 */
export interface Nfs4Env {
  gate: FhGate;
  exports: ExportRegistry & { pseudo(): Export; readonly namespace: Namespace };
  state: Nfs4State;
  idmap: IdMapper;
  /** 8 bytes, shared with NFSv3: changes at every server start and after a write failure. */
  writeVerifier(): Buffer;
  resetWriteVerifier(): void;
  /** Largest READ / WRITE, bytes. */
  rtmax: number;
  wtmax: number;
  /** eir_server_owner.so_major_id and eir_server_scope: stable across restarts of this server. */
  serverOwner: Buffer;
  /** Ticked by every modifying operation, shared with NFSv3 (its listing reply-ahead trusts it). */
  changes: ChangeClock;
  /** Called after each operation (metrics). */
  onOp?(ev: Nfs4OpEvent): void;
}
