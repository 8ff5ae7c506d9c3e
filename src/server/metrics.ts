/**
 * Prometheus metrics on an opt-in HTTP endpoint (`serve --metrics HOST:PORT`,
 * loopback unless an address is given). prom-client does the exposition
 * format and histograms; the numbers come from four places: the RPC
 * server's per-call events (counts, errors, latency, bytes), its counters
 * (connections, duplicate-cache hits), the data path's counters (direct
 * writes, spliced reads, listing work done ahead), and LOCALIO's status
 * (bound clients, probes, opens, invalidations, and the clients' own
 * local-vs-wire counters, which they report because local I/O never reaches
 * the server).
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallEvent, RpcServer, RpcServerStats } from '../rpc/server.js';
import type { LocalioServerStatus } from '../localio/server.js';
import type { DataPathStatus } from './server.js';
import { NFS3_PROGRAM, nfs3StatName } from '../nfs3/constants.js';
import { MOUNT_PROGRAM } from '../mount/constants.js';
import { PMAP_PROGRAM } from '../portmap/program.js';
import { LOCALIO_PROGRAM } from '../localio/constants.js';
import { log } from '../util/log.js';
import type { EventEmitter } from 'node:events';
import { nfs4StatName } from '../nfs4/constants.js';
import type { Nfs4OpEvent } from '../nfs4/env.js';
import type { Nfs4GraceStatus } from './nfs4.js';

const PROGRAMS: Record<number, string> = { [PMAP_PROGRAM]: 'portmap', [NFS3_PROGRAM]: 'nfs3', [MOUNT_PROGRAM]: 'mount3', [LOCALIO_PROGRAM]: 'localio' };

export interface MetricsSource {
  rpc: RpcServer;
  localio(): LocalioServerStatus | undefined;
  dataPath?(): DataPathStatus;
  /** NFSv4: per-operation events ('op', Nfs4OpEvent), the state's counts and the grace period. */
  nfs4?: { ops: EventEmitter; counts(): Nfs4Counts; grace?(): Nfs4GraceStatus };
}

type Nfs4Counts = { clients: number; sessions: number; opens: number; lockStates: number; locks: number; cachedBytes: number };

/** Parse "PORT", "HOST:PORT" or "[V6]:PORT"; the host defaults to 127.0.0.1. */
export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new TypeError(`--metrics: expected PORT or HOST:PORT, got "${spec}"`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

function statusLabel(ev: CallEvent): string | undefined {
  if (ev.status === '0' || ev.status === 'SUCCESS') return undefined;
  const n = Number(ev.status);
  if (!Number.isInteger(n)) return ev.status; // an RPC-level status: GARBAGE_ARGS, AUTH_BADCRED ...
  return ev.prog === NFS3_PROGRAM && ev.vers === 3 ? nfs3StatName(n) : `${PROGRAMS[ev.prog] ?? ev.prog}:${n}`;
}

export function createMetrics(src: MetricsSource): Registry {
  const reg = new Registry();
  const p = 'nfslocalio_';
  const calls = new Counter({ name: `${p}rpc_calls_total`, help: 'RPC calls answered, by program and procedure', labelNames: ['program', 'procedure'], registers: [reg] });
  const errors = new Counter({
    name: `${p}rpc_errors_total`,
    help: 'Calls answered with an error: nfsstat3 name (NFS3ERR_*) for NFS, the RPC status otherwise',
    labelNames: ['program', 'procedure', 'status'],
    registers: [reg],
  });
  const latency = new Histogram({
    name: `${p}rpc_duration_seconds`,
    help: 'Time from decoded call to encoded reply',
    labelNames: ['program', 'procedure'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [reg],
  });
  const readBytes = new Counter({ name: `${p}read_bytes_total`, help: 'Bytes returned by READ over the wire', registers: [reg] });
  const writtenBytes = new Counter({ name: `${p}written_bytes_total`, help: 'Bytes accepted by WRITE over the wire', registers: [reg] });
  src.rpc.on('call', (ev: CallEvent) => {
    // Program 100003 serves two versions: "nfs3" and "nfs4" (whose COMPOUNDs count here, their operations below).
    const program = ev.prog === NFS3_PROGRAM ? `nfs${ev.vers}` : PROGRAMS[ev.prog] ?? String(ev.prog);
    calls.inc({ program, procedure: ev.name });
    latency.observe({ program, procedure: ev.name }, Number(ev.durationNs) / 1e9);
    const st = statusLabel(ev);
    if (st) errors.inc({ program, procedure: ev.name, status: st });
    if (ev.bytes) (ev.name === 'READ' ? readBytes : writtenBytes).inc(ev.bytes);
  });

  // NFSv4: each operation of a COMPOUND is counted like a procedure (program "nfs4"), its errors by nfsstat4.
  src.nfs4?.ops.on('op', (ev: Nfs4OpEvent) => {
    const labels = { program: 'nfs4', procedure: ev.name };
    calls.inc(labels);
    latency.observe(labels, Number(ev.durationNs) / 1e9);
    if (ev.status !== 0) errors.inc({ ...labels, status: nfs4StatName(ev.status) });
    if (ev.bytes) (ev.name === 'READ' ? readBytes : writtenBytes).inc(ev.bytes);
  });

  // Values that live elsewhere: read at scrape time. One shape for all of them: `fill` reports each
  // labelled value; counters are reset and re-added (the source keeps the running total), gauges set.
  type Fill = (put: (labels: Record<string, string>, v: number) => void) => void;
  const scraped = (type: 'counter' | 'gauge', name: string, help: string, fill: Fill, labelNames: string[] = []) => {
    const collect = function (this: Counter<string> | Gauge<string>) {
      this.reset();
      fill((labels, v) => (this instanceof Counter ? this.inc(labels, v) : this.set(labels, v)));
    };
    if (type === 'counter') new Counter({ name: `${p}${name}`, help, labelNames, registers: [reg], collect });
    else new Gauge({ name: `${p}${name}`, help, labelNames, registers: [reg], collect });
  };
  const rpc = (type: 'counter' | 'gauge', name: string, help: string, get: (s: RpcServerStats) => number) => scraped(type, name, help, (put) => put({}, get(src.rpc.stats())));
  rpc('gauge', 'connections', 'TCP connections open now', (s) => s.connections);
  rpc('counter', 'connections_total', 'TCP connections accepted', (s) => s.connectionsTotal);
  rpc('counter', 'drc_hits_total', 'Retransmitted non-idempotent calls answered from the duplicate request cache', (s) => s.drcHits);
  rpc('counter', 'bad_records_total', 'Records refused (garbage or over the size cap)', (s) => s.garbageRecords + s.oversizedRecords);

  const v4 = (name: string, help: string, get: (k: Nfs4Counts) => number) =>
    scraped('gauge', `nfs4_${name}`, help, (put) => {
      const k = src.nfs4?.counts();
      if (k) put({}, get(k));
    });
  v4('clients', 'NFSv4 clients (client ids) the server holds now', (k) => k.clients);
  v4('sessions', 'NFSv4.1 sessions now', (k) => k.sessions);
  v4('open_files', 'NFSv4 opens (open stateids) now', (k) => k.opens);
  v4('locks', 'NFSv4 byte-range locks held now', (k) => k.locks);
  v4('lock_states', 'NFSv4 lock stateids now', (k) => k.lockStates);
  v4('slot_cache_bytes', 'Bytes of replies kept in session slots (the NFSv4.1 reply cache)', (k) => k.cachedBytes);

  // Restart recovery: the grace period and the stable client records.
  const grace = (type: 'counter' | 'gauge', name: string, help: string, get: (g: Nfs4GraceStatus) => number, labelled?: (g: Nfs4GraceStatus) => Array<[Record<string, string>, number]>) =>
    scraped(type, `nfs4_${name}`, help, (put) => {
      const g = src.nfs4?.grace?.();
      if (!g) return;
      if (labelled) for (const [l, v] of labelled(g)) put(l, v);
      else put({}, get(g));
    }, labelled ? ['kind'] : []);
  grace('gauge', 'grace_active', '1 while the grace period after a restart lasts (only reclaims may open and lock)', (g) => (g.active ? 1 : 0));
  grace('gauge', 'grace_remaining_seconds', 'Seconds until the grace period ends on time (0 when over)', (g) => g.remainingMs / 1000);
  grace('gauge', 'grace_clients_pending', 'Clients of the previous instance that have not yet finished reclaiming', (g) => g.pendingCount);
  grace('counter', 'reclaims_total', 'Opens and locks reclaimed after a restart', () => 0, (g) => [[{ kind: 'open' }, g.reclaimedOpens], [{ kind: 'lock' }, g.reclaimedLocks]]);
  grace('gauge', 'client_records', 'Stable client records on disk (clients that may reclaim after a restart)', (g) => g.records);
  grace('counter', 'client_record_failures_total', 'Client record writes or removals that failed (that client cannot reclaim after a crash)', (g) => g.recordFailures);

  // The data path: direct writes, spliced reads and stat-ahead per export, READDIRPLUS pages ahead.
  const dp = (name: string, help: string, fill: (d: DataPathStatus, put: Parameters<Fill>[0]) => void, labelNames: string[] = []) =>
    scraped('counter', name, help, (put) => {
      const d = src.dataPath?.();
      if (d) fill(d, put);
    }, labelNames);
  const perExport = (name: string, help: string, get: (e: DataPathStatus['exports'][number]) => number) =>
    dp(name, help, (d, put) => d.exports.forEach((e) => put({ export: e.path }, get(e))), ['export']);
  perExport('direct_writes_total', 'WRITE pieces written with O_DIRECT, past the page cache', (e) => e.directWrites.writes);
  perExport('direct_write_bytes_total', 'Bytes written with O_DIRECT', (e) => e.directWrites.bytes);
  perExport('direct_write_fallbacks_total', 'Writes meant to be direct that went through the page cache (refused or cut short)', (e) => e.directWrites.fallbacks);
  perExport('spliced_reads_total', 'READs whose data was spliced from the page cache to the socket', (e) => e.splicedReads.reads);
  perExport('spliced_read_bytes_total', 'Bytes of spliced READs', (e) => e.splicedReads.bytes);
  perExport('stat_ahead_entries_total', 'Listing entries served with attributes stat-ed ahead on the thread pool', (e) => e.statAhead.served);
  perExport('stat_ahead_dropped_total', 'Batches of entries stat-ed ahead and dropped unused (stale or not where the reader went)', (e) => e.statAhead.dropped);
  dp('readdirplus_ahead_total', 'READDIRPLUS pages computed ahead, by outcome (served to their request, or stale and computed again)', (d, put) => {
    put({ outcome: 'served' }, d.readdirplusAhead.served);
    put({ outcome: 'stale' }, d.readdirplusAhead.stale);
  }, ['outcome']);

  /** A LOCALIO value; nothing when LOCALIO is off. */
  const lio = (type: 'counter' | 'gauge', name: string, help: string, fill: (l: LocalioServerStatus, put: Parameters<Fill>[0]) => void, labelNames?: string[]) =>
    scraped(type, `localio_${name}`, help, (put) => {
      const l = src.localio();
      if (l) fill(l, put);
    }, labelNames);
  const lc = (name: string, help: string, get: (l: LocalioServerStatus) => number) => lio('counter', name, help, (l, put) => put({}, get(l)));
  scraped('gauge', 'localio_clients', 'LOCALIO clients bound now, by channel (in-process, unix)', (put) => {
    const clients = src.localio()?.clients ?? [];
    for (const channel of ['in-process', 'unix'] as const) put({ channel }, clients.filter((c) => c.kind === channel).length);
  }, ['channel']);
  lc('probes_total', 'UUID_IS_LOCAL calls received', (l) => l.counters.probes);
  lc('binds_total', 'Clients bound as local', (l) => l.counters.binds);
  lc('misses_total', 'Probes whose nonce was not found on this host', (l) => l.counters.misses);
  lc('opens_total', 'Local opens granted', (l) => l.counters.opens);
  lc('open_errors_total', 'Local opens refused (the client then uses the wire)', (l) => l.counters.openErrors);
  lc('invalidations_total', 'Invalidation rounds (unexport, shutdown)', (l) => l.counters.invalidations);
  lc('fallbacks_total', 'I/O that LOCALIO clients sent over the wire after a local failure (client-reported)', (l) => l.io.fallbacks);
  const paths = ['local', 'wire'] as const;
  lio('counter', 'ops_total', 'READ/WRITE/COMMIT operations of LOCALIO clients, by path (local or wire; client-reported)', (l, put) => {
    for (const path of paths) {
      put({ path, op: 'read' }, l.io[path].reads);
      put({ path, op: 'write' }, l.io[path].writes);
      put({ path, op: 'commit' }, l.io[path].commits);
    }
  }, ['path', 'op']);
  lio('counter', 'bytes_total', 'Bytes read and written by LOCALIO clients, by path (local or wire; client-reported)', (l, put) => {
    for (const path of paths) {
      put({ path, direction: 'read' }, l.io[path].bytesRead);
      put({ path, direction: 'write' }, l.io[path].bytesWritten);
    }
  }, ['path', 'direction']);
  return reg;
}

/** GET /metrics → the registry in the Prometheus text format; anything else 404. */
export class MetricsServer {
  private constructor(private readonly server: http.Server) {}

  static async start(reg: Registry, spec: string): Promise<MetricsServer> {
    const { host, port } = parseListen(spec);
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      reg.metrics().then(
        (text) => res.writeHead(200, { 'content-type': reg.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
    });
    server.unref();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as { address: string; port: number };
    log.info('metrics.listening', { address: `${a.address}:${a.port}`, url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics` });
    return new MetricsServer(server);
  }

  address(): { address: string; port: number } {
    return this.server.address() as { address: string; port: number };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
