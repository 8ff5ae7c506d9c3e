/**
 * Prometheus metrics on an opt-in HTTP endpoint (`serve --metrics HOST:PORT`,
 * loopback unless an address is given). prom-client does the exposition
 * format and histograms; the numbers come from three places: the RPC
 * server's per-call events (counts, errors, latency, bytes), its counters
 * (connections, duplicate-cache hits), and LOCALIO's status (bound clients,
 * probes, opens, invalidations, and the clients' own local-vs-wire counters,
 * which they report because local I/O never reaches the server).
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallEvent, RpcServer, RpcServerStats } from '../rpc/server.js';
import type { LocalioServerStatus } from '../localio/server.js';
import { nfs3StatName } from '../nfs3/constants.js';
import { log } from '../util/log.js';

const PROGRAMS: Record<number, string> = { 100000: 'portmap', 100003: 'nfs3', 100005: 'mount3', 400122: 'localio' };

export interface MetricsSource {
  rpc: RpcServer;
  stats(): RpcServerStats;
  localio(): LocalioServerStatus | undefined;
}

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
  return ev.prog === 100003 ? nfs3StatName(n) : `${PROGRAMS[ev.prog] ?? ev.prog}:${n}`;
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
    const program = PROGRAMS[ev.prog] ?? String(ev.prog);
    calls.inc({ program, procedure: ev.name });
    latency.observe({ program, procedure: ev.name }, Number(ev.durationNs) / 1e9);
    const st = statusLabel(ev);
    if (st) errors.inc({ program, procedure: ev.name, status: st });
    if (ev.bytes) (ev.name === 'READ' ? readBytes : writtenBytes).inc(ev.bytes);
  });

  // Values that live elsewhere: read at scrape time.
  const fromStats = (name: string, help: string, get: (s: RpcServerStats) => number, type: 'counter' | 'gauge') => {
    const collect = function (this: Counter | Gauge) {
      const v = get(src.stats());
      if (this instanceof Counter) {
        this.reset();
        this.inc(v);
      } else this.set(v);
    };
    if (type === 'counter') new Counter({ name, help, registers: [reg], collect });
    else new Gauge({ name, help, registers: [reg], collect });
  };
  fromStats(`${p}connections`, 'TCP connections open now', (s) => s.connections, 'gauge');
  fromStats(`${p}connections_total`, 'TCP connections accepted', (s) => s.connectionsTotal, 'counter');
  fromStats(`${p}drc_hits_total`, 'Retransmitted non-idempotent calls answered from the duplicate request cache', (s) => s.drcHits, 'counter');
  fromStats(`${p}bad_records_total`, 'Records refused (garbage or over the size cap)', (s) => s.garbageRecords + s.oversizedRecords, 'counter');

  const lc = (name: string, help: string, get: (l: LocalioServerStatus) => number) =>
    new Counter({
      name: `${p}localio_${name}`,
      help,
      registers: [reg],
      collect() {
        const l = src.localio();
        this.reset();
        if (l) this.inc(get(l));
      },
    });
  new Gauge({
    name: `${p}localio_clients`,
    help: 'LOCALIO clients bound now, by channel (in-process, unix)',
    labelNames: ['channel'],
    registers: [reg],
    collect() {
      const l = src.localio();
      this.reset();
      this.set({ channel: 'in-process' }, l?.clients.filter((c) => c.kind === 'in-process').length ?? 0);
      this.set({ channel: 'unix' }, l?.clients.filter((c) => c.kind === 'unix').length ?? 0);
    },
  });
  lc('probes_total', 'UUID_IS_LOCAL calls received', (l) => l.counters.probes);
  lc('binds_total', 'Clients bound as local', (l) => l.counters.binds);
  lc('misses_total', 'Probes whose nonce was not found on this host', (l) => l.counters.misses);
  lc('opens_total', 'Local opens granted', (l) => l.counters.opens);
  lc('open_errors_total', 'Local opens refused (the client then uses the wire)', (l) => l.counters.openErrors);
  lc('invalidations_total', 'Invalidation rounds (unexport, shutdown)', (l) => l.counters.invalidations);
  lc('fallbacks_total', 'I/O that LOCALIO clients sent over the wire after a local failure (client-reported)', (l) => l.io.fallbacks);
  new Counter({
    name: `${p}localio_ops_total`,
    help: 'READ/WRITE/COMMIT operations of LOCALIO clients, by path (local or wire; client-reported)',
    labelNames: ['path', 'op'],
    registers: [reg],
    collect() {
      const l = src.localio();
      this.reset();
      if (!l) return;
      for (const path of ['local', 'wire'] as const) {
        const c = l.io[path];
        this.inc({ path, op: 'read' }, c.reads);
        this.inc({ path, op: 'write' }, c.writes);
        this.inc({ path, op: 'commit' }, c.commits);
      }
    },
  });
  new Counter({
    name: `${p}localio_bytes_total`,
    help: 'Bytes read and written by LOCALIO clients, by path (local or wire; client-reported)',
    labelNames: ['path', 'direction'],
    registers: [reg],
    collect() {
      const l = src.localio();
      this.reset();
      if (!l) return;
      for (const path of ['local', 'wire'] as const) {
        this.inc({ path, direction: 'read' }, l.io[path].bytesRead);
        this.inc({ path, direction: 'write' }, l.io[path].bytesWritten);
      }
    },
  });
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
