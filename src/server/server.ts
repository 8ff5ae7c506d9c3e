import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { RpcServer, type RpcServerStats } from '../rpc/index.js';
import type { ProcedureDef, RpcProgram } from '../rpc/program.js';
import { NFS4_VERSION as NFS_V4 } from '../nfs4/constants.js';
import { createPortmapProgram, type Mapping } from '../portmap/program.js';
import { createMountProgram } from '../mount/program.js';
import { MOUNT_PROGRAM, MOUNT_V3 } from '../mount/constants.js';
import { createNfs3Procedures } from '../nfs3/program.js';
import { NFS3_PROGRAM as NFS_PROGRAM, NFS3_VERSION as NFS_V3 } from '../nfs3/constants.js';
import {
  ExportTable,
  loadOrCreateSecret,
  defaultStateDir,
  parseExportsWithWarnings,
  formatOptions,
  type Export,
  type ExportEntry,
  type ServerIdentity,
} from '../export/index.js';
import { PosixBackend, ReadAheadBackend, WriteBehindBackend, type Backend, type PosixDataPath } from '../storage/index.js';
import type { AheadStats } from '../nfs3/procedures/readdirplus.js';
import { log } from '../util/log.js';
import { LocalioServer, type LocalioServerStatus } from '../localio/server.js';
import { loadFdPass, storageCalls } from '../localio/native.js';
import { SameHostCongestion } from './same-host-tcp.js';
import { ControlServer, controlSocketPath } from './control.js';
import { createMetrics, MetricsServer } from './metrics.js';
import type { ConnectionInfo } from '../rpc/server.js';
import { ChangeClock } from '../util/changes.js';
import { Nfs4Server, openClientRecords, type Nfs4Status, type Nfs4Recovery } from './nfs4.js';
import type { StateLimits } from '../nfs4/state/index.js';

export interface NfsServerOptions {
  /** Exports: parsed entries, or the text of an exports(5) file. */
  exports: ExportEntry[] | { text: string; source?: string };
  /** Make the backend for an export; the POSIX directory backend by default. */
  backendFor?: (entry: ExportEntry) => Backend | Promise<Backend>;
  /** TCP port for NFS, MOUNT, the portmapper (and LOCALIO). Default 2049; 0 = any free port. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Also answer the portmapper on this port (111 when true). */
  portmap?: boolean | number;
  /** Where the file-handle key and backend state live. */
  stateDir?: string;
  /** Largest READ / WRITE, bytes. Default 1 MiB each. */
  rtmax?: number;
  wtmax?: number;
  /**
   * Answer UNSTABLE WRITEs once their data is queued, before it reaches the file system
   * (storage/write-behind.ts), for the exports this server opens itself. Default true.
   */
  writeBehind?: boolean;
  /**
   * Write large aligned WRITE data with direct I/O, past the page cache (storage/direct-write.ts),
   * for the exports this server opens itself. Default true.
   */
  directWrites?: boolean;
  /**
   * Send large READ data from the page cache to the socket by splice, never copying it
   * (storage/splice.ts; needs the native addon), for the exports this server opens itself. Default true.
   */
  spliceReads?: boolean;
  /**
   * TCP congestion control for connections from this host (server/same-host-tcp.ts); false leaves
   * them to the system's default. Default 'reno'. Needs the native addon.
   */
  sameHostCongestion?: string | false;
  /** Override who the server acts as (tests). Default: from the process. */
  identity?: ServerIdentity;
  /** Offer LOCALIO (program 400122) to same-host clients. Default true; false → PROG_UNAVAIL. */
  localio?: boolean;
  /** Also bind clients in other processes through the rendezvous directory (needs the native addon). Default true. */
  localioCrossProcess?: boolean;
  /** LOCALIO rendezvous directory (default: NFS_LOCALIO_RENDEZVOUS, else /run/nfs-localio or $TMPDIR/nfs-localio). */
  rendezvous?: string;
  /** How long close()/unexport wait for LOCALIO clients to give their descriptors back. Default 750 ms. */
  localioInvalidateTimeoutMs?: number;
  /** Answer `nfs-localio status` on <stateDir>/control-<port>.sock. Default true. */
  control?: boolean;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics ("PORT" alone: on 127.0.0.1). Off by default. */
  metrics?: string;
  /** Serve NFSv4.1 and 4.2 (program 100003 version 4) beside v3. Default true. */
  nfs4?: boolean;
  /** The NFSv4 lease, seconds. Default 90. */
  leaseTime?: number;
  /** The NFSv4 grace period after a restart, seconds. Default: the lease. */
  graceTime?: number;
  /** NFSv4 owners as user@DOMAIN through the host's passwd/group (default: numeric strings). */
  idmapDomain?: string;
  /** Bounds on NFSv4 state (clients, sessions, slots ...). */
  nfs4Limits?: Partial<StateLimits>;
}

/** What `nfs-localio status` shows. */
export interface NfsServerStatus {
  pid: number;
  started: string;
  address: string;
  port: number;
  identity: ServerIdentity;
  exports: Array<{ path: string; id: number; backend: string; clients: Array<{ host: string; options: string }> }>;
  connections: Array<Omit<ConnectionInfo, 'since'> & { since: string }>;
  rpc: RpcServerStats;
  localio?: LocalioServerStatus;
  dataPath: DataPathStatus;
  /** NFSv4 clients with their sessions, opens and locks; undefined when v4 is off. */
  nfs4?: Nfs4Status;
}

/**
 * What the data-path accelerations are doing: per export this server opened itself (direct writes,
 * spliced reads, listing stat-ahead; `state` is 'on' or 'off: why'), and READDIRPLUS pages computed
 * ahead (served to their request, or found stale and computed again).
 */
export interface DataPathStatus {
  exports: Array<{ path: string } & PosixDataPath>;
  readdirplusAhead: AheadStats;
  /** The congestion control set on same-host connections ('reno'), or 'off: why'. */
  sameHostCongestion: string;
}

function processIdentity(): ServerIdentity {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return { privileged: uid === 0, uid, gid, gids: process.getgroups?.() ?? [] };
}

/**
 * The NFS server: composes the RPC server with the portmapper, MOUNT v3 and
 * NFSv3 programs over one export table, all on a single TCP port (MOUNT and
 * NFS share it, like ganesha can, so one `port=`/`mountport=` pair works).
 */
export class NfsServer {
  readonly rpc: RpcServer;
  readonly exports: ExportTable;
  readonly identity: ServerIdentity;
  private portmapRpc?: RpcServer;
  private control?: ControlServer;
  private metricsServer?: MetricsServer;
  private readonly started = new Date();
  /** LOCALIO's server side; undefined when disabled. */
  readonly localio?: LocalioServer;
  private verifier: Buffer = randomBytes(8);
  private readonly backends = new Map<string, Backend>();
  private readonly ownedBackends = new Set<Backend>();
  /** The POSIX backend under each owned stack, by export path (for dataPath()). */
  private readonly posixOf = new Map<string, PosixBackend>();
  private readonly readdirplusAhead: AheadStats = { started: 0, served: 0, stale: 0 };
  private readonly congestion: SameHostCongestion;
  private closing?: Promise<void>;
  readonly mountList;
  /** NFSv4.1/4.2; undefined when disabled. */
  readonly nfs4?: Nfs4Server;

  private constructor(
    exportsTable: ExportTable,
    identity: ServerIdentity,
    private readonly opts: NfsServerOptions,
    secret: Buffer,
    recovery?: Nfs4Recovery,
  ) {
    this.exports = exportsTable;
    this.identity = identity;
    const rtmax = opts.rtmax ?? 1024 * 1024;
    const wtmax = opts.wtmax ?? 1024 * 1024;
    const resetWriteVerifier = () => {
      this.verifier = randomBytes(8);
      log.warn('nfs.write_verifier.reset', { reason: 'write or commit failure' });
    };
    // One change clock for both versions: v3's listing reply-ahead must see v4's changes too.
    const changes = new ChangeClock();
    const maxRecord = wtmax + 64 * 1024;
    const versions = new Map<number, ProcedureDef[]>([[NFS_V3, createNfs3Procedures({
      gate: exportsTable,
      exports: exportsTable,
      writeVerifier: () => this.verifier,
      resetWriteVerifier,
      rtmax,
      wtmax,
      dtpref: 64 * 1024,
      readdirplusAhead: this.readdirplusAhead,
      changes,
    })]]);
    if (opts.nfs4 !== false) {
      this.nfs4 = new Nfs4Server({
        table: exportsTable,
        secret,
        rtmax,
        wtmax,
        changes,
        writeVerifier: () => this.verifier,
        resetWriteVerifier,
        leaseSeconds: opts.leaseTime,
        graceSeconds: opts.graceTime,
        recovery,
        idmapDomain: opts.idmapDomain,
        limits: opts.nfs4Limits,
        maxRecord,
      });
      versions.set(NFS_V4, this.nfs4.procedures);
    }
    // One program, versions 3 and 4: an unknown version gets PROG_MISMATCH 3..4.
    const nfs: RpcProgram = { number: NFS_PROGRAM, name: 'nfs', versions };
    const mount = createMountProgram({ exports: exportsTable, gate: exportsTable });
    this.mountList = mount.mountList;
    const portmap = createPortmapProgram({ mappings: () => this.mappings() });
    const programs = [portmap, mount, nfs];
    if (opts.localio !== false) {
      this.localio = new LocalioServer({
        gate: exportsTable,
        crossProcess: opts.localioCrossProcess,
        rendezvous: opts.rendezvous,
        invalidateTimeoutMs: opts.localioInvalidateTimeoutMs,
      });
      // On the NFS port only, never in the portmapper (as Linux).
      programs.push(this.localio.program());
    }
    const native = loadFdPass().native;
    this.congestion = new SameHostCongestion(native?.tcpCongestion?.bind(native), opts.sameHostCongestion ?? 'reno');
    // Headroom over wtmax for the RPC and WRITE headers.
    this.rpc = new RpcServer(programs, {
      maxRecord,
      tuneSocket: (fd, peer, local) => this.congestion.tune(fd, peer, local),
    });
    const v4 = this.nfs4;
    if (v4) this.rpc.on('disconnect', (ev: { id: number }) => v4.connectionClosed(ev.id));
  }

  /** Create the server, open its exports and start listening. */
  static async start(opts: NfsServerOptions): Promise<NfsServer> {
    const identity = opts.identity ?? processIdentity();
    const stateDir = opts.stateDir ?? defaultStateDir();
    const secret = await loadOrCreateSecret(stateDir);
    const table = new ExportTable({ secret, server: identity });
    // The previous instance's NFSv4 clients, read back before anything is served: they may reclaim.
    const recovery = opts.nfs4 !== false ? await openClientRecords(stateDir) : undefined;
    const server = new NfsServer(table, identity, { ...opts, stateDir }, secret, recovery);
    let entries: ExportEntry[];
    if (Array.isArray(opts.exports)) entries = opts.exports;
    else {
      const { entries: parsed, warnings } = parseExportsWithWarnings(opts.exports.text, opts.exports.source);
      for (const w of warnings) log.warn("exports.warning", { source: w.source, line: w.line, message: w.message });
      entries = parsed;
    }
    try {
      for (const e of entries) await server.addExport(e);
      await server.rpc.listen(opts.port ?? 2049, opts.host ?? '127.0.0.1');
      if (opts.portmap) {
        const pmPort = opts.portmap === true ? 111 : opts.portmap;
        server.portmapRpc = new RpcServer([createPortmapProgram({ mappings: () => server.mappings() })]);
        await server.portmapRpc.listen(pmPort, opts.host ?? '127.0.0.1');
      }
      if (opts.metrics !== undefined) {
        const v4 = server.nfs4;
        const reg = createMetrics({
          rpc: server.rpc,
          localio: () => server.localio?.status(),
          dataPath: () => server.dataPath(),
          nfs4: v4 && { ops: v4.ops, counts: () => v4.state.counts(), grace: () => v4.graceStatus() },
        });
        server.metricsServer = await MetricsServer.start(reg, opts.metrics);
      }
      if (opts.control !== false) {
        try {
          server.control = await ControlServer.start(controlSocketPath(stateDir, server.port), () => server.status());
        } catch (e) {
          log.warn('control.unavailable', { reason: (e as Error).message });
        }
      }
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  get port(): number {
    return this.rpc.address()?.port ?? 0;
  }

  get host(): string {
    return this.rpc.address()?.address ?? '';
  }

  /** Where the metrics endpoint listens, when enabled. */
  get metricsAddress(): { address: string; port: number } | undefined {
    return this.metricsServer?.address();
  }

  get portmapPort(): number | undefined {
    return this.portmapRpc?.address()?.port;
  }

  /** The current 8-byte write verifier (changes at every start). */
  get writeVerifier(): Buffer {
    return this.verifier;
  }

  private mappings(): Mapping[] {
    const port = this.port;
    return [
      { prog: 100000, vers: 2, port },
      { prog: 100000, vers: 3, port },
      { prog: 100000, vers: 4, port },
      { prog: MOUNT_PROGRAM, vers: MOUNT_V3, port },
      { prog: NFS_PROGRAM, vers: NFS_V3, port },
      ...(this.nfs4 ? [{ prog: NFS_PROGRAM, vers: NFS_V4, port }] : []),
    ];
  }

  /** Export a directory (or the given backend) at runtime. */
  async addExport(entry: ExportEntry, backend?: Backend): Promise<Export> {
    let b = backend ?? (await this.opts.backendFor?.(entry));
    const owned = !b;
    let posix: PosixBackend | undefined;
    if (!b) {
      const backendState = path.join(this.opts.stateDir ?? defaultStateDir(), 'posix');
      fs.mkdirSync(backendState, { recursive: true, mode: 0o700 });
      // The optional addon's calls relative to directory descriptors (openat2 and the *at family:
      // no path is ever built), statMany (listing pages stat the next page's entries ahead on the
      // thread pool) and splice calls (READ data reaches the socket without a copy).
      const { at, statMany, splice, v42 } = storageCalls();
      const rtmax = this.opts.rtmax ?? 1024 * 1024;
      posix = new PosixBackend(entry.path, {
        stateDir: backendState,
        at,
        statMany,
        v42,
        splice: this.opts.spliceReads !== false ? splice : undefined,
        spliceBytes: rtmax,
        directWriteBytes: this.opts.directWrites === false ? 0 : undefined,
      });
      b = new ReadAheadBackend(posix, { maxBytes: rtmax });
      if (this.opts.writeBehind !== false) b = new WriteBehindBackend(b, { maxWrite: this.opts.wtmax ?? 1024 * 1024 });
    }
    try {
      const exp = await this.exports.add(entry, b);
      this.backends.set(exp.path, b);
      if (owned) this.ownedBackends.add(b);
      if (posix) this.posixOf.set(exp.path, posix);
      log.info('export.added', { path: exp.path, id: exp.id, backend: b.kind, clients: entry.clients.map((c) => c.host).join(',') });
      if (posix) this.sayResolution(posix);
      return exp;
    } catch (err) {
      if (owned) await b.close();
      throw err;
    }
  }

  /** Withdraw an export: its handles answer STALE from now on. */
  async removeExport(p: string): Promise<boolean> {
    const exp = this.exports.remove(p);
    if (!exp) return false;
    // Local clients close that export's descriptors (bounded wait) before its backend goes.
    await this.localio?.invalidateExport(exp.id);
    const b = this.backends.get(exp.path);
    this.backends.delete(exp.path);
    this.posixOf.delete(exp.path);
    if (b && this.ownedBackends.delete(b)) await b.close();
    log.info('export.removed', { path: exp.path });
    return true;
  }

  stats(): RpcServerStats {
    return this.rpc.stats();
  }

  /** Exports, connections, counters and LOCALIO clients: what `nfs-localio status` prints. */
  status(): NfsServerStatus {
    return {
      pid: process.pid,
      started: this.started.toISOString(),
      address: this.host,
      port: this.port,
      identity: this.identity,
      exports: this.exports.list().map((e) => ({ path: e.path, id: e.id, backend: e.backend.kind, clients: e.entry.clients.map((c) => ({ host: c.host, options: formatOptions(c.options) })) })),
      connections: this.rpc.connections().map((c) => ({ ...c, since: c.since.toISOString() })),
      rpc: this.rpc.stats(),
      localio: this.localio?.status(),
      dataPath: this.dataPath(),
      nfs4: this.nfs4?.status(),
    };
  }

  /**
   * Once per server: how the POSIX backend reaches files. Without the native addon it resolves
   * through /proc/self/fd, which is still descriptor-relative but has no openat2 check and costs
   * a few /proc lookups per call (docs/architecture.md); say so where the admin looks first.
   */
  private sayResolution(posix: PosixBackend): void {
    if (this.resolutionSaid) return;
    this.resolutionSaid = true;
    const r = posix.dataPath().resolution;
    if (r.state === 'on') log.info('storage.resolution', { mode: r.mode });
    else {
      const l = loadFdPass();
      log.warn('storage.resolution', { mode: r.mode, native: l.native === undefined ? l.reason : 'loaded, but without the descriptor-relative calls (rebuild it)' });
    }
  }
  private resolutionSaid = false;

  /** The data-path accelerations' states and counters (status, metrics). */
  dataPath(): DataPathStatus {
    return {
      exports: [...this.posixOf].map(([path, b]) => ({ path, ...b.dataPath() })),
      readdirplusAhead: { ...this.readdirplusAhead },
      sameHostCongestion: this.congestion.state,
    };
  }

  /** LOCALIO: bound clients, counters; undefined when LOCALIO is off. */
  localioStatus(): LocalioServerStatus | undefined {
    return this.localio?.status();
  }

  /**
   * LOCALIO first (new local opens fail, clients give their descriptors
   * back, in-flight local I/O drains — all bounded), then stop listening,
   * close connections and release backends. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.nfs4?.close();
      await this.localio?.close();
      await this.control?.close();
      await this.metricsServer?.close();
      await Promise.all([this.rpc.close(), this.portmapRpc?.close()]);
      for (const b of this.ownedBackends) await b.close().catch(() => {});
      this.ownedBackends.clear();
      this.backends.clear();
    })();
    return this.closing;
  }
}

/** The default export for `serve DIR`: read-write, insecure, root_squash, for everyone who can reach the bound address. */
export function defaultExportEntry(dir: string): ExportEntry {
  return {
    path: path.resolve(dir),
    clients: [{ host: '*', options: { readOnly: false, secure: false, squash: 'root', anonuid: 65534, anongid: 65534, sync: true } }],
  };
}

export const hostName = os.hostname;
