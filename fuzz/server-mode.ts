/**
 * Fuzzing the running server over TCP (127.0.0.1 only): the real server as a child process, many
 * connections, each sending a batch of mutated call records (from the committed corpus and from a
 * live session whose file handles this server issued, so mutated calls reach the handlers; half of
 * the mutations leave the call header alone and change only the arguments), framed
 * well or badly, and ending one of four ways:
 *
 *   clean      the batch, then a NULL call; wait for its reply (or for the server to close)
 *   cut        the batch cut at a random byte, then the connection is destroyed
 *   oversized  the batch, then a fragment header over the server's record cap: it must close
 *   half       the batch, then part of a record and our FIN: it must close
 *
 * Every record gets an xid of its own, and on a clean connection every record that says it is a
 * call must get exactly one reply, however malformed the rest ("never silence"); every reply is
 * parsed (a malformed one, or a SYSTEM_ERR — a handler that threw — is a failure).
 * Then 16 connections each hold an unfinished record of nearly the cap in 1-byte fragments (the
 * RSS may grow by what they hold, not by more). Afterwards the server must still answer NULL, MNT
 * and GETATTR, and its RSS must be back within bounds.
 */
import net from 'node:net';
import fs from 'node:fs';
import { XdrReader, XdrWriter } from '../src/xdr/index.js';
import { RecordReader, recordMark, LAST_FRAGMENT } from '../src/rpc/record.js';
import { MsgType, readReplyBody, writeCallHeader } from '../src/rpc/message.js';
import { AUTH_NONE_VERF } from '../src/rpc/auth.js';
import { RpcClient } from '../src/rpc/client.js';
import { NFS3_PROGRAM, Nfs3Proc, decodeGetattrRes, encodeGetattrArgs } from '../src/nfs3/index.js';
import { MOUNT_PROGRAM, MountProc, decodeMntRes, encodeDirpath } from '../src/mount/index.js';
import { Rng } from './prng.js';
import { mutate } from './mutate.js';
import { argsOffset, loadCorpus, recordsOf } from './corpus.js';
import { makeExportDir, startServerChild, type ServerChild } from './server-child.js';
import { startRecorder } from './recorder.js';
import { runSession } from './session.js';

/** The server's default record cap (src/rpc/server.ts): wtmax 1 MiB + 64 KiB. */
const SERVER_MAX_RECORD = 1024 * 1024 + 64 * 1024;
const SENTINEL_XID = 0xfffffff0;
const END_WAIT_MS = 30_000;
/** RSS growth over the run (after setup) that counts as unbounded. */
const RSS_LIMIT = 256 << 20;

export interface ServerModeStats {
  seed: number;
  records: number;
  connections: number;
  bytes: number;
  wallMs: number;
  endings: Record<'clean' | 'cut' | 'oversized' | 'half', number>;
  replies: Record<string, number>;
  /** NFSv3 calls (not NULL) answered SUCCESS, by whether their nfsstat3 was NFS3_OK. */
  nfs: Record<string, number>;
  /** The server's RSS: after setup, after 10% of the records, highest seen, at the end. */
  rss: { start: number; warm: number; peak: number; end: number };
  /** Files and directories in the export at the end (the calls that reached handlers made them). */
  exportEntries: number;
  checks: { null: boolean; mnt: boolean; getattr: boolean };
  /** The held-records phase: RSS growth while `connections` unfinished records of `bytesEach` bytes were held. */
  held?: { connections: number; bytesEach: number; rssGrowth: number };
  failures: string[];
}

type Ending = keyof ServerModeStats['endings'];

function sentinel(): Buffer {
  const w = new XdrWriter(64);
  writeCallHeader(w, { xid: SENTINEL_XID, prog: NFS3_PROGRAM, vers: 3, proc: Nfs3Proc.NULL, cred: AUTH_NONE_VERF, verf: AUTH_NONE_VERF });
  const body = w.finish();
  return Buffer.concat([recordMark(body.length), body]);
}

function frame(rng: Rng, rec: Buffer): Buffer {
  if (rec.length < 8 || rng.chance(0.92)) return Buffer.concat([recordMark(rec.length), rec]);
  const parts: Buffer[] = [];
  let off = 0;
  while (off < rec.length) {
    const n = rng.chance(0.1) ? 0 : Math.min(rec.length - off, rng.range(1, rec.length));
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((off + n === rec.length ? LAST_FRAGMENT : 0) | n) >>> 0);
    parts.push(h, rec.subarray(off, off + n));
    off += n;
  }
  return Buffer.concat(parts);
}

interface Lane {
  stats: ServerModeStats;
  live: Buffer[];
  corpus: Buffer[];
  donors: Buffer[];
  port: number;
  nextXid(): number;
  left(): number;
  take(n: number): void;
}

/** One connection: returns when it has ended as its ending says. */
function connection(l: Lane, conn: number): Promise<void> {
  const rng = Rng.forCase(l.stats.seed, 'server', conn);
  const n = Math.max(1, Math.min(l.left(), rng.size(4000) + 1));
  l.take(n);
  const parts: Buffer[] = [];
  /** Records that are calls (msg_type CALL): each must get exactly one reply, whatever else is wrong with it. */
  const calls = new Map<number, Buffer>();
  for (let i = 0; i < n; i++) {
    const src = rng.chance(0.6) ? l.live : l.corpus;
    const seed = src[rng.below(src.length)];
    const at = argsOffset(seed);
    let rec = seed;
    if (rng.chance(0.03)) rec = rng.bytes(rng.size(512));
    else if (at > 0 && rng.chance(0.5)) rec = Buffer.concat([seed.subarray(0, at), mutate(rng, seed.subarray(at), { maxLen: 8192, donors: l.donors })]);
    else if (rng.chance(0.7)) rec = mutate(rng, seed, { maxLen: 8192, donors: l.donors });
    if (rec.length >= 4) {
      // a fresh xid per record, so each reply names the one call it answers
      rec = Buffer.from(rec);
      const xid = l.nextXid();
      rec.writeUInt32BE(xid, 0);
      if (rec.length >= 8 && rec.readUInt32BE(4) === MsgType.CALL) calls.set(xid, rec);
    }
    parts.push(frame(rng, rec));
  }
  const ending: Ending = rng.pick(['clean', 'clean', 'clean', 'clean', 'clean', 'clean', 'cut', 'oversized', 'half']);
  l.stats.endings[ending]++;
  let wire = Buffer.concat(parts);
  if (ending === 'cut') wire = wire.subarray(0, rng.below(wire.length + 1));
  if (ending === 'clean') wire = Buffer.concat([wire, sentinel()]);
  if (ending === 'oversized' || ending === 'half') {
    const h = Buffer.alloc(4);
    const len = ending === 'oversized' ? rng.pick([SERVER_MAX_RECORD + 1, SERVER_MAX_RECORD + 4096, 0x7fffffff]) : rng.range(64, 60_000);
    h.writeUInt32BE(((rng.chance(0.5) ? LAST_FRAGMENT : 0) | len) >>> 0);
    wire = Buffer.concat([wire, h, ending === 'half' ? rng.bytes(rng.below(Math.min(len, 512))) : Buffer.alloc(0)]);
  }
  l.stats.bytes += wire.length;
  return new Promise((resolve) => {
    const s = net.connect(l.port, '127.0.0.1');
    let done = false;
    const finish = (problem?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (problem) l.stats.failures.push(`connection ${conn} (${ending}, seed ${l.stats.seed}): ${problem}`);
      s.destroy();
      resolve();
    };
    let sentinelSeen = false;
    const timer = setTimeout(() => {
      const [xid, rec] = [...calls][0] ?? [];
      const silent = ending === 'clean' && sentinelSeen ? `: ${calls.size} calls never answered, e.g. xid ${xid}: ${rec?.subarray(0, 256).toString('hex')}` : '';
      finish(`no end after ${END_WAIT_MS} ms${silent}`);
    }, END_WAIT_MS);
    const replies = new RecordReader(16 << 20, (rec) => {
      try {
        const r = new XdrReader(rec);
        const xid = r.uint32();
        if (r.uint32() !== MsgType.REPLY) throw new Error('not a REPLY');
        const h = readReplyBody(r, xid);
        const key = h.kind === 'accepted' ? h.stat : h.kind === 'auth_error' ? h.stat : 'RPC_MISMATCH';
        l.stats.replies[key] = (l.stats.replies[key] ?? 0) + 1;
        const call = calls.get(xid);
        if (key === 'SUCCESS' && call && call.length >= 24 && call.readUInt32BE(12) === NFS3_PROGRAM && call.readUInt32BE(20) !== 0 && r.remaining >= 4) {
          // how far NFS calls got: the handler's nfsstat3 (0: it did what was asked)
          const stat = r.uint32() === 0 ? 'NFS3_OK' : 'NFS3ERR';
          l.stats.nfs[stat] = (l.stats.nfs[stat] ?? 0) + 1;
        }
        if (key === 'SYSTEM_ERR') l.stats.failures.push(`connection ${conn}: SYSTEM_ERR for xid ${xid} (a handler threw): ${calls.get(xid)?.toString('hex')}`);
        if (xid === SENTINEL_XID) sentinelSeen = true;
        else if (!calls.delete(xid)) l.stats.failures.push(`connection ${conn}: a reply for xid ${xid}, which no unanswered call had`);
        // a clean connection ends once every call has had its reply (the NULL last, or after the rest)
        if (ending === 'clean' && sentinelSeen && calls.size === 0) finish();
      } catch (e) {
        finish(`malformed reply: ${(e as Error).message} ${rec.subarray(0, 64).toString('hex')}`);
      }
    });
    s.on('data', (d: Buffer) => {
      try {
        replies.push(d);
      } catch (e) {
        finish(`reply framing: ${(e as Error).message}`);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => finish());
    s.once('connect', async () => {
      for (let off = 0; off < wire.length && !done; ) {
        const k = Math.min(wire.length - off, rng.chance(0.5) ? wire.length : rng.range(1, 65536));
        const ok = s.write(wire.subarray(off, off + k));
        off += k;
        if (!ok) await new Promise((r) => s.once('drain', r).once('close', r));
      }
      if (ending === 'cut') finish();
      else if (ending === 'half') s.end();
    });
  });
}

/**
 * Records held, not finished: `n` connections each send a record of nearly the whole cap as 1-byte
 * fragments, and stop before its last byte. The server holds their bytes — at most the cap per
 * connection — and its RSS must grow by about that, not by its own bookkeeping of each piece.
 */
async function heldRecords(srv: ServerChild, st: ServerModeStats, n: number, log: (s: string) => void): Promise<void> {
  const len = SERVER_MAX_RECORD - 1;
  const wire = Buffer.alloc(len * 5);
  for (let i = 0; i < len; i++) wire.writeUInt32BE(1, i * 5);
  const before = srv.rss();
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Socket>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write(wire, () => resolve(s)));
      s.on('error', () => resolve(s));
    })),
  );
  // the server has read everything once its RSS stops growing
  let last = -1;
  for (let i = 0; i < 100 && srv.rss() !== last; i++) {
    last = srv.rss();
    await new Promise((r) => setTimeout(r, 250));
  }
  const held = srv.rss() - before;
  st.held = { connections: n, bytesEach: len, rssGrowth: held };
  st.rss.peak = Math.max(st.rss.peak, srv.rss());
  const limit = n * SERVER_MAX_RECORD * 2 + (64 << 20);
  log(`  held records: ${n} connections × ${len} bytes in 1-byte fragments: server RSS +${(held / 1048576).toFixed(1)} MiB (limit ${(limit / 1048576).toFixed(0)} MiB)`);
  if (held > limit) st.failures.push(`${n} unfinished records of ${len} bytes in 1-byte fragments grew the server's RSS by ${held} bytes (over ${limit})`);
  for (const s of socks) s.destroy();
}

/** NULL, MNT and GETATTR of the root on a fresh connection: the server still serves. */
async function postChecks(srv: ServerChild, st: ServerModeStats): Promise<void> {
  const c = await RpcClient.connect(srv.port);
  try {
    st.checks.null = (await c.callRaw(NFS3_PROGRAM, 3, Nfs3Proc.NULL)).header.kind === 'accepted';
    const m = await c.call(MOUNT_PROGRAM, 3, MountProc.MNT, (w) => encodeDirpath(w, srv.dir));
    const mr = decodeMntRes(m.reader);
    st.checks.mnt = mr.status === 0;
    if (mr.status === 0) {
      const g = await c.call(NFS3_PROGRAM, 3, Nfs3Proc.GETATTR, (w) => encodeGetattrArgs(w, { object: mr.fhandle }));
      st.checks.getattr = decodeGetattrRes(g.reader).status === 0;
    }
  } catch (e) {
    st.failures.push(`post-check: ${(e as Error).message}`);
  } finally {
    await c.close();
  }
  for (const [k, v] of Object.entries(st.checks)) if (!v) st.failures.push(`post-check ${k} failed`);
}

function countEntries(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += countEntries(`${dir}/${e.name}`);
  }
  return n;
}

/**
 * `heapMiB`: run the server with V8's old space capped at that many MiB — a leak in the server's heap
 * then kills it (a failure) instead of only raising its RSS.
 */
export async function runServerMode(o: { seed: number; records: number; connections?: number; heapMiB?: number; log: (s: string) => void }): Promise<ServerModeStats> {
  const st: ServerModeStats = {
    seed: o.seed, records: 0, connections: 0, bytes: 0, wallMs: 0, endings: { clean: 0, cut: 0, oversized: 0, half: 0 }, replies: {}, nfs: {},
    rss: { start: 0, warm: 0, peak: 0, end: 0 }, exportEntries: 0, checks: { null: false, mnt: false, getattr: false }, failures: [],
  };
  const { tmp, dir, stateDir, rendezvous } = makeExportDir('nfsl-fuzzsrv-');
  const srv = await startServerChild({ dir, stateDir, rendezvous, nodeArgs: o.heapMiB ? [`--max-old-space-size=${o.heapMiB}`] : [] });
  o.log(`server mode: nfs-localio serve pid ${srv.pid} on 127.0.0.1:${srv.port}, ${o.records} records, seed ${o.seed}${o.heapMiB ? `, heap capped at ${o.heapMiB} MiB` : ''}`);
  try {
    const rec = await startRecorder(srv.port);
    await runSession(rec.port, dir);
    await rec.close();
    const live = recordsOf(rec.entries, 'call');
    const corpus = recordsOf(loadCorpus(), 'call');
    st.rss.start = st.rss.peak = srv.rss();
    let sent = 0;
    let xid = 0;
    const lane: Lane = {
      stats: st, live, corpus, donors: [...live, ...corpus], port: srv.port, nextXid: () => ++xid,
      left: () => o.records - sent,
      take: (n) => {
        if (sent < o.records / 10 && sent + n >= o.records / 10) st.rss.warm = srv.rss();
        sent += n;
      },
    };
    const t0 = Date.now();
    let lastLog = t0;
    const sampler = setInterval(() => {
      st.rss.peak = Math.max(st.rss.peak, srv.rss());
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        o.log(`  ${sent} records, ${st.connections} connections, server rss ${(srv.rss() / 1048576).toFixed(0)} MiB`);
      }
    }, 500);
    let conn = 0;
    const worker = async () => {
      while (sent < o.records && srv.alive() && st.failures.length < 20) {
        await connection(lane, conn++);
        st.connections++;
      }
    };
    await Promise.all(Array.from({ length: o.connections ?? 8 }, worker));
    clearInterval(sampler);
    st.records = sent;
    st.wallMs = Date.now() - t0;
    if (srv.alive()) await heldRecords(srv, st, 16, o.log);
    if (!srv.alive()) st.failures.push(`the server died (exit ${srv.child.exitCode} ${srv.child.signalCode}):\n${srv.output().slice(-4000)}`);
    else {
      await postChecks(srv, st);
      await new Promise((r) => setTimeout(r, 2000));
      st.rss.end = srv.rss();
      st.rss.peak = Math.max(st.rss.peak, st.rss.end);
      if (st.rss.end - st.rss.start > RSS_LIMIT) st.failures.push(`server RSS grew from ${st.rss.start} to ${st.rss.end} bytes`);
    }
    const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    o.log(`server mode: ${st.records} records on ${st.connections} connections (${MiB(st.bytes)}) in ${(st.wallMs / 1000).toFixed(1)} s`);
    o.log(`  endings ${JSON.stringify(st.endings)}; replies ${JSON.stringify(st.replies)}; NFSv3 results ${JSON.stringify(st.nfs)}`);
    st.exportEntries = countEntries(dir);
    o.log(`  server rss ${MiB(st.rss.start)} at start, ${MiB(st.rss.warm)} after 10% of the records, ${MiB(st.rss.peak)} peak, ${MiB(st.rss.end)} at end`);
    o.log(`  ${st.exportEntries} files and directories in the export at the end; checks ${JSON.stringify(st.checks)}`);
    const errs = srv.output().split('\n').filter((x) => / error /.test(x));
    if (errs.length) o.log(`  server logged ${errs.length} error lines, first: ${errs[0]}`);
    for (const f of st.failures.slice(0, 20)) o.log(`FAIL server: ${f}`);
  } finally {
    await srv.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return st;
}
