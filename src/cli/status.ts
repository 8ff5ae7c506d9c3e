/**
 * `nfs-localio status`: what a running server on this host is doing —
 * exports, connected clients with their credential flavour, which clients
 * are LOCALIO and since when, counters — read from its control socket
 * (<state-dir>/control-<port>.sock). `--client URL` shows the other side:
 * connect as a client, let the LOCALIO probe finish, and print its state.
 * A table on a terminal, JSON with --json.
 */

import { defaultStateDir } from '../export/index.js';
import { askControl, controlSocketPath, listControlSockets } from '../server/control.js';
import type { NfsServerStatus } from '../server/server.js';
import type { LocalioClientStatus } from '../localio/client.js';
import { complain, connectUrl, versionName, why } from './nfs-common.js';

export interface StatusOptions {
  port?: number;
  stateDir?: string;
  json?: boolean;
  client?: string;
}

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n') + '\n';
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function mib(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} B`;
}

export function formatServerStatus(st: NfsServerStatus): string {
  let out = `Server pid ${st.pid} on ${st.address}:${st.port}, up ${ago(st.started)} (${st.identity.privileged ? 'root: AUTH_SYS identities enforced' : `unprivileged: acting as uid ${st.identity.uid}`})\n\n`;
  out += 'Exports\n' + table([['PATH', 'FSID', 'BACKEND', 'CLIENTS'], ...st.exports.map((e) => [e.path, String(e.id), e.backend, e.clients.map((c) => `${c.host}(${c.options})`).join(' ')])]) + '\n';
  const dp = st.dataPath;
  if (dp?.exports.length) {
    out +=
      'Data path\n' +
      table([
        ['EXPORT', 'RESOLUTION', 'DIRECT WRITES', 'SPLICED READS', 'STAT-AHEAD'],
        ...dp.exports.map((e) => [
          e.path,
          e.resolution.state === 'on' ? 'openat2 (native)' : e.resolution.state,
          `${e.directWrites.state} (${e.directWrites.writes}, ${mib(e.directWrites.bytes)})`,
          `${e.splicedReads.state} (${e.splicedReads.reads}, ${mib(e.splicedReads.bytes)})`,
          `${e.statAhead.state} (${e.statAhead.served} entries)`,
        ]),
      ]) +
      `  READDIRPLUS pages computed ahead: ${dp.readdirplusAhead.served} served, ${dp.readdirplusAhead.stale} stale\n` +
      `  TCP congestion control of same-host connections: ${dp.sameHostCongestion}\n\n`;
  }
  const local = new Map((st.localio?.clients ?? []).map((c) => [`${c.address}:${c.port}`, c]));
  out +=
    'Connections\n' +
    table([
      ['ID', 'PEER', 'AUTH', 'UID', 'CALLS', 'SINCE', 'TCP CC', 'LOCALIO'],
      ...st.connections.map((c) => [String(c.id), `${c.peer.address}:${c.peer.port}`, c.authFlavor === 'sys' ? 'AUTH_SYS' : c.authFlavor === 'none' ? 'AUTH_NONE' : '-', c.uid === undefined ? '-' : String(c.uid), String(c.calls), ago(c.since), c.congestion ?? '-', local.has(`${c.peer.address}:${c.peer.port}`) ? 'yes' : 'no']),
    ]) +
    '\n';
  out += formatNfs4(st) + '\n';
  const l = st.localio;
  if (!l) return out + 'LOCALIO: off (server started with LOCALIO disabled)\n';
  out += `LOCALIO: ${l.enabled ? 'on' : 'shutting down'}, instance ${l.instance}, cross-process ${l.crossProcess ? 'on' : `off (${l.crossProcessReason})`}\n`;
  if (l.clients.length) {
    out += table([
      ['ID', 'CHANNEL', 'PEER', 'AUTH', 'UID', 'PID', 'SINCE', 'OPEN FILES', 'OPENS'],
      ...l.clients.map((c) => [String(c.id), c.kind, `${c.address}:${c.port}`, c.authFlavor, c.uid === undefined ? '-' : String(c.uid), c.pid === undefined ? '-' : String(c.pid), `${c.since} (${ago(c.since)})`, String(c.openFiles), String(c.opens)]),
    ]);
  } else out += '  no LOCALIO clients\n';
  const k = l.counters;
  out += `  probes ${k.probes}, bound ${k.binds}, not found ${k.misses}, local opens ${k.opens} (${k.openErrors} refused), invalidations ${k.invalidations}, unbound ${k.unbinds}\n`;
  out += `\nRPC: ${st.rpc.calls} calls, ${st.rpc.connections} connections now (${st.rpc.connectionsTotal} in all), duplicate-cache hits ${st.rpc.drcHits}, bad records ${st.rpc.garbageRecords + st.rpc.oversizedRecords}\n`;
  return out;
}

/** The grace period after a restart: how long it has left and who is still to reclaim. */
function formatGrace(g: NonNullable<NfsServerStatus['nfs4']>['grace']): string {
  const records = `${g.records} client record${g.records === 1 ? '' : 's'} on disk${g.recordFailures ? `, ${g.recordFailures} record writes failed` : ''}`;
  const reclaimed = `${g.reclaimedOpens} opens and ${g.reclaimedLocks} locks reclaimed`;
  if (!g.active) {
    const why = g.endedBecause === 'no previous clients' ? 'no client of the previous instance to wait for' : g.endedBecause === 'all reclaimed' ? 'every previous client reclaimed' : `after ${g.graceSeconds}s`;
    return `  grace period: over (${why}); ${reclaimed}; ${records}\n`;
  }
  let out = `  grace period: ${Math.ceil(g.remainingMs / 1000)}s of ${g.graceSeconds}s left; ${g.pendingCount} of ${g.previousClients} previous clients still to reclaim; ${reclaimed}; ${records}\n`;
  for (const p of g.pending) out += `    ${p.state === 'waiting' ? 'not back yet' : 'reclaiming  '} ${p.owner}\n`;
  if (g.pendingCount > g.pending.length) out += `    … and ${g.pendingCount - g.pending.length} more\n`;
  return out;
}

/** NFSv4 clients with their sessions, opens and locks. */
function formatNfs4(st: NfsServerStatus): string {
  const v4 = st.nfs4;
  if (!v4) return 'NFSv4: off\n';
  const k = v4.counts;
  let out = `NFSv4.1/4.2: lease ${v4.leaseSeconds}s, owners ${v4.idmapDomain ? `user@${v4.idmapDomain}` : 'numeric'}; ${k.clients} clients, ${k.sessions} sessions, ${k.opens} opens, ${k.locks} locks (${k.lockStates} lock states), ${mib(k.cachedBytes)} of replies kept in slots\n`;
  out += formatGrace(v4.grace);
  if (v4.clients.length === 0) return out + '  no NFSv4 clients\n';
  out += table([
    ['CLIENTID', 'PEER', 'CONFIRMED', 'SINCE', 'LEASE RENEWED', 'SESSIONS', 'OPENS', 'LOCKS', 'IMPLEMENTATION'],
    ...v4.clients.map((c) => [
      c.clientid,
      c.address,
      c.confirmed ? 'yes' : 'no',
      ago(c.since),
      `${Math.round(c.leaseRenewedAgoMs / 1000)}s ago`,
      c.sessions.map((x) => `${x.id.slice(-8)}(${x.busy}/${x.slots} slots, ${x.connections} conn${x.backChannel ? ', back' : ''})`).join(' ') || '-',
      String(c.opens.length),
      String(c.opens.reduce((n, o) => n + o.locks.length, 0)),
      c.implementation ?? '-',
    ]),
  ]);
  for (const c of v4.clients) {
    for (const o of c.opens) {
      const locks = o.locks.map((l) => `${l.type} ${l.start}+${l.length === '18446744073709551615' ? 'EOF' : l.length}`).join(', ');
      out += `  ${c.clientid} open fh ${o.fh.slice(0, 24)}… access ${o.access} deny ${o.deny}${locks ? `, locks: ${locks}` : ''}\n`;
    }
  }
  return out;
}

export function formatClientStatus(url: string, st: LocalioClientStatus, version?: string): string {
  let out = `LOCALIO for ${url}: ${st.state}${st.reason ? ` — ${st.reason}` : ''} (since ${st.since})\n`;
  if (version) out += `  protocol ${version}\n`;
  if (st.server) out += `  server instance ${st.server.instance} over ${st.server.channel}\n`;
  out += `  cross-process: ${st.crossProcess ? 'available' : `unavailable (${st.crossProcessReason})`}\n`;
  out += `  probes ${st.probes}, enabled ${st.enables}, disabled ${st.disables}, fallbacks ${st.fallbacks}, invalidations ${st.invalidations}, open files ${st.openFiles}\n`;
  out += table([
    ['PATH', 'READS', 'WRITES', 'COMMITS', 'READ', 'WRITTEN'],
    ['local', String(st.local.reads), String(st.local.writes), String(st.local.commits), mib(st.local.bytesRead), mib(st.local.bytesWritten)],
    ['wire', String(st.wire.reads), String(st.wire.writes), String(st.wire.commits), mib(st.wire.bytesRead), mib(st.wire.bytesWritten)],
  ]);
  return out;
}

export async function status(o: StatusOptions): Promise<number> {
  if (o.client) {
    try {
      const c = await connectUrl(o.client);
      try {
        await c.localio.settled();
        const st = c.localio.status();
        process.stdout.write(o.json ? JSON.stringify({ version: c.version, ...st }, null, 2) + '\n' : formatClientStatus(o.client, st, versionName(c)));
        return st.state === 'local' ? 0 : 3;
      } finally {
        await c.close();
      }
    } catch (e) {
      complain(`${o.client}: ${why(e)}`);
      return 1;
    }
  }
  const dir = o.stateDir ?? defaultStateDir();
  const socks = o.port !== undefined ? [controlSocketPath(dir, o.port)] : listControlSockets(dir);
  if (socks.length === 0) {
    complain(`no running server found (no control socket in ${dir}; give --state-dir as the server was started with)`);
    return 1;
  }
  const all: NfsServerStatus[] = [];
  let code = 0;
  for (const p of socks) {
    try {
      all.push((await askControl(p)) as NfsServerStatus);
    } catch (e) {
      complain(`${p}: ${why(e)}`);
      code = 1;
    }
  }
  if (o.json) process.stdout.write(JSON.stringify(o.port !== undefined ? all[0] ?? null : all, null, 2) + '\n');
  else process.stdout.write(all.map(formatServerStatus).join('\n'));
  return code;
}
