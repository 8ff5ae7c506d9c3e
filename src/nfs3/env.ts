import type { ExportRegistry, FhGate } from '../export/types.js';
import type { ChangeClock } from '../util/changes.js';
import type { AheadStats } from './procedures/readdirplus.js';

/**
 * What NFSv3 procedures need from the server around them. Handlers reach
 * storage only through `gate.verify` (which yields the export, its backend
 * and the node) and never see sockets or bytes.
 */
export interface Nfs3Env {
  gate: FhGate;
  exports: ExportRegistry;
  /** 8 bytes; changes at every server start (so clients resend uncommitted data after a restart). */
  writeVerifier(): Buffer;
  /** Called after a WRITE/COMMIT storage failure, as knfsd does, so clients resend uncommitted data. */
  resetWriteVerifier(): void;
  /** Largest READ count served (bytes); the server defaults it to 1 MiB. */
  rtmax: number;
  /** Largest WRITE accepted (bytes); the server defaults it to 1 MiB. */
  wtmax: number;
  /** Preferred READDIR reply size, reported by FSINFO. */
  dtpref: number;
  /** Ticks on every modifying call (changes.ts); the table makes one when none is given. */
  changes?: ChangeClock;
  /** Where READDIRPLUS counts the pages it computes ahead (for status and metrics); its own when absent. */
  readdirplusAhead?: AheadStats;
  /**
   * How old (ms, from the start of its computation) a READDIRPLUS page computed ahead may be when
   * its request comes; older ones are computed again. Default 50.
   */
  readdirplusAheadMs?: number;
}
