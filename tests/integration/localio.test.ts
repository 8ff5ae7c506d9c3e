/**
 * LOCALIO with the server and the client in the same process (the
 * in-process tier): the handshake, the options that turn it off, parity of
 * data and errors with the wire path, local writes and COMMIT, and the
 * lifetimes — a server that closes under 16 busy local clients, a restart on
 * the same port, an unexport — with /proc/self/fd checked for leaked
 * descriptors of the exported files.
 *
 * Nothing here asserts speed: elapsed times are reported with t.diagnostic,
 * and "the server was not pinned" is checked through its log (no
 * invalidation or drain timeout).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, NfsServer, defaultExportEntry, type NfsClient, type ConnectOptions, type NfsServerOptions } from '../../src/index.js';
import type { ExportEntry, ExportOptions } from '../../src/export/types.js';
import type { CallEvent } from '../../src/rpc/server.js';
import { NFS3_PROGRAM, Nfs3Proc } from '../../src/nfs3/constants.js';
import { LOCALIO_PROGRAM } from '../../src/localio/constants.js';
import { registeredNonces } from '../../src/localio/registry.js';
import { setLogLevel, setLogSink, type LogLevel } from '../../src/util/log.js';
import { TEST_UID, TEST_GID, sleep } from '../helpers/nfs-raw.js';
import { waitFor } from '../helpers/peers.js';

/** A hang detector only (a hung test fails instead of blocking the run). */
const WATCHDOG = { timeout: 60_000 };
const IS_ROOT = process.getuid?.() === 0;
const NEED_ROOT = IS_ROOT ? false : 'needs root: the server enforces AUTH_SYS identities only when privileged';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------- fixtures

interface Fixture {
  /** Real path (no symlinks), so /proc/self/fd targets compare as prefixes. */
  tmp: string;
  stateDir: string;
  /** A private rendezvous directory (the host tier is not under test here, but must not litter /run). */
  rv: string;
  /** Make an export directory, owned by uid:gid (root-run). */
  dir(name: string, uid?: number, gid?: number, mode?: number): string;
  cleanup(): void;
}

function fixture(name: string): Fixture {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `nfsl-localio-${name}-`)));
  const rv = path.join(tmp, 'rv');
  fs.mkdirSync(rv, { mode: 0o700 });
  return {
    tmp,
    stateDir: path.join(tmp, 'state'),
    rv,
    dir: (n, uid = TEST_UID, gid = TEST_GID, mode = 0o755) => {
      const d = path.join(tmp, n);
      fs.mkdirSync(d, { recursive: true });
      fs.chmodSync(d, mode);
      if (IS_ROOT) fs.chownSync(d, uid, gid);
      return d;
    },
    cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }),
  };
}

function exportOf(dir: string, o: Partial<ExportOptions> = {}): ExportEntry {
  const base = defaultExportEntry(dir);
  return { path: base.path, clients: [{ host: '*', options: { ...base.clients[0].options, ...o } }] };
}

/** A file on disk with an owner and a mode (as root). */
function put(p: string, data: string | Buffer, uid: number, gid: number, mode: number): void {
  fs.writeFileSync(p, data);
  if (IS_ROOT) fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

async function startServer(f: Fixture, exports: ExportEntry[], extra: Partial<NfsServerOptions> = {}): Promise<NfsServer> {
  return NfsServer.start({ exports, port: 0, host: '127.0.0.1', stateDir: f.stateDir, rendezvous: f.rv, ...extra });
}

async function connectTo(f: Fixture, srv: NfsServer | number, dir: string, o: Partial<ConnectOptions> = {}): Promise<NfsClient> {
  const port = typeof srv === 'number' ? srv : srv.port;
  // NFSv3: these tests count its READ/WRITE/COMMIT procedures (LOCALIO over v4: localio-v4.test.ts).
  return connect({ version: 3, host: '127.0.0.1', nfsPort: port, mountPort: port, path: dir, uid: TEST_UID, gid: TEST_GID, gids: [TEST_GID], localioRendezvous: f.rv, ...o });
}

/** Per-procedure RPC call counts the server saw (NFS and LOCALIO programs). */
class CallCounter {
  private readonly counts = new Map<string, number>();
  private readonly on = (ev: CallEvent) => {
    const k = `${ev.prog}/${ev.proc}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  };
  constructor(private readonly srv: NfsServer) {
    srv.rpc.on('call', this.on);
  }
  nfs(proc: number): number {
    return this.counts.get(`${NFS3_PROGRAM}/${proc}`) ?? 0;
  }
  /** READ, WRITE, COMMIT. */
  data(): { read: number; write: number; commit: number } {
    return { read: this.nfs(Nfs3Proc.READ), write: this.nfs(Nfs3Proc.WRITE), commit: this.nfs(Nfs3Proc.COMMIT) };
  }
  localio(): number {
    let n = 0;
    for (const [k, v] of this.counts) if (k.startsWith(`${LOCALIO_PROGRAM}/`)) n += v;
    return n;
  }
  stop(): void {
    this.srv.rpc.off('call', this.on);
  }
}

/** The descriptors of this process that point at `dir` or below it. */
function fdsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const n of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      continue; // closed meanwhile (the readdir's own descriptor)
    }
    if (target === dir || target.startsWith(dir + '/')) out.push(`${n} -> ${target}`);
  }
  return out;
}

/** Reject with a clear message instead of hanging. */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms (hung?)`)), ms);
    }),
  ]);
}

/** The fs-style outcome of an operation: its data or its error, comparable with deepStrictEqual. */
type Outcome = { ok: string } | { err: string; nfsstat3?: number; syscall?: string };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    const v = await p;
    if (Buffer.isBuffer(v)) return { ok: `${v.length}:${sha(v)}` };
    if (v && typeof v === 'object' && 'bytesRead' in v) {
      const r = v as { bytesRead: number; buffer: Buffer };
      return { ok: `read ${r.bytesRead}:${sha(r.buffer.subarray(0, r.bytesRead))}` };
    }
    if (v && typeof v === 'object' && 'bytesWritten' in v) return { ok: `wrote ${(v as { bytesWritten: number }).bytesWritten}` };
    return { ok: v === undefined ? 'done' : JSON.stringify(v) };
  } catch (e) {
    const err = e as { code?: string; nfsstat3?: number; syscall?: string; message?: string };
    if (typeof err.code !== 'string') throw e;
    return { err: err.code, nfsstat3: err.nfsstat3, syscall: err.syscall };
  }
}

/** Capture the log lines, at info level whatever NFS_LOCALIO_LOG_LEVEL says (LOCALIO warns on an invalidation / drain timeout). */
function captureLog(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  setLogLevel('info');
  setLogSink((l) => {
    lines.push(l);
    if (/ (warn|error) /.test(l)) process.stderr.write(l + '\n');
  });
  return {
    lines,
    restore: () => {
      setLogSink((l) => process.stderr.write(l + '\n'));
      const env = process.env.NFS_LOCALIO_LOG_LEVEL as LogLevel | undefined;
      setLogLevel(env && ['debug', 'info', 'warn', 'error', 'silent'].includes(env) ? env : 'info');
    },
  };
}

/** LOCALIO debug events of the client side (diagnostics_channel), while `body` runs. */
function clientEvents(): { events: Array<Record<string, unknown>>; stop(): void } {
  const events: Array<Record<string, unknown>> = [];
  const on = (m: unknown) => {
    const e = m as Record<string, unknown>;
    if (e.side === 'client' && (e.event === 'fallback' || e.event === 'io_error')) events.push(e);
  };
  diagnostics_channel.subscribe('nfs-localio:localio', on);
  return { events, stop: () => diagnostics_channel.unsubscribe('nfs-localio:localio', on) };
}

// ---------------------------------------------------------------- 1. handshake

test('in-process handshake: local, bound with the mount identity; READ/WRITE/COMMIT bypass RPC with identical data', WATCHDOG, async (t) => {
  const f = fixture('handshake');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)]);
  const calls = new CallCounter(srv);
  let c: NfsClient | undefined;
  try {
    const t0 = performance.now();
    c = await connectTo(f, srv, dir);
    await c.localio.settled();
    t.diagnostic(`mount + probe settled in ${(performance.now() - t0).toFixed(1)} ms`);
    const st = c.localio.status();
    assert.equal(st.state, 'local', `state ${st.state}: ${st.reason}`);
    assert.equal(c.localio.isLocal, true);
    assert.equal(st.server?.channel, 'in-process');
    assert.equal(st.server?.instance, srv.localioStatus()?.instance);
    assert.equal(st.probes, 1);
    assert.equal(calls.localio(), 2, 'NULL then UUID_IS_LOCAL of program 400122');

    const ss = srv.localioStatus();
    assert.ok(ss);
    assert.equal(ss.enabled, true);
    assert.equal(ss.clients.length, 1);
    const b = ss.clients[0];
    assert.equal(b.kind, 'in-process');
    assert.equal(b.address, '127.0.0.1');
    assert.equal(b.authFlavor, 'AUTH_SYS');
    assert.equal(b.uid, TEST_UID);
    assert.equal(b.pid, process.pid);
    assert.equal(ss.counters.probes, 1);
    assert.equal(ss.counters.binds, 1);

    const before = calls.data();
    const big = randomBytes(8 * 1024 * 1024);
    await c.writeFile('/big.bin', big);
    assert.equal(sha(fs.readFileSync(path.join(dir, 'big.bin'))), sha(big), 'on disk after writeFile (close commits)');
    const back = await c.readFile('/big.bin');
    assert.ok(Buffer.isBuffer(back));
    assert.equal(back.length, big.length);
    assert.equal(sha(back), sha(big), 'read back');

    // FileHandle.read at offsets, a read straddling EOF (short) and one at EOF (0 bytes).
    const h = await c.open('/big.bin', 'r');
    try {
      for (const [pos, len] of [[0, 4096], [12345, 70_000], [4 * 1024 * 1024 - 7, 1 << 20], [big.length - 1, 1]] as const) {
        const buf = Buffer.alloc(len + 10, 0xee);
        const r = await h.read(buf, 5, len, pos);
        assert.equal(r.bytesRead, len, `read ${len} at ${pos}`);
        assert.ok(buf.subarray(5, 5 + len).equals(big.subarray(pos, pos + len)), `data at ${pos}`);
        assert.ok(buf.subarray(0, 5).every((x) => x === 0xee) && buf.subarray(5 + len).every((x) => x === 0xee), 'nothing outside the range touched');
      }
      const tail = Buffer.alloc(4096);
      const short = await h.read(tail, 0, 4096, big.length - 100);
      assert.equal(short.bytesRead, 100, 'short read at EOF');
      assert.ok(tail.subarray(0, 100).equals(big.subarray(big.length - 100)));
      const atEof = await h.read(tail, 0, 4096, big.length);
      assert.equal(atEof.bytesRead, 0, 'read at EOF');
      const past = await h.read(tail, 0, 4096, big.length + 12345);
      assert.equal(past.bytesRead, 0, 'read past EOF');
    } finally {
      await h.close();
    }

    const after = calls.data();
    assert.deepEqual(after, before, 'no READ, WRITE or COMMIT reached the server over RPC');
    const s2 = c.localio.status();
    t.diagnostic(`local ${JSON.stringify(s2.local)} wire ${JSON.stringify(s2.wire)}`);
    assert.ok(s2.local.writes >= 1 && s2.local.bytesWritten === big.length, `local writes ${JSON.stringify(s2.local)}`);
    assert.ok(s2.local.commits >= 1, 'writeFile commits locally');
    assert.ok(s2.local.reads >= 6 && s2.local.bytesRead >= big.length + 4096 + 70_000 + (1 << 20) + 1 + 100, `local reads ${JSON.stringify(s2.local)}`);
    assert.deepEqual(s2.wire, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 });
    assert.equal(s2.fallbacks, 0);
    assert.ok((srv.localioStatus()?.counters.opens ?? 0) >= 1, 'the server opened the file for the client');
  } finally {
    calls.stop();
    await c?.close();
    await srv.close();
    f.cleanup();
  }
});

// ---------------------------------------------------------------- 2. off switches

test('off switches: client localio:false stays off; a server without LOCALIO → disabled (PROG_UNAVAIL); AUTH_NONE never probes', WATCHDOG, async (t) => {
  const f = fixture('off');
  const dir = f.dir('export');
  put(path.join(dir, 'pub.txt'), 'public data\n', TEST_UID, TEST_GID, 0o644);
  const data = randomBytes(300_000);

  await t.test('client localio: false → off, everything over the wire', async () => {
    const srv = await startServer(f, [exportOf(dir)]);
    const calls = new CallCounter(srv);
    const c = await connectTo(f, srv, dir, { localio: false });
    try {
      await c.localio.settled();
      const st = c.localio.status();
      assert.equal(st.state, 'off');
      assert.equal(st.probes, 0);
      await c.writeFile('/a.bin', data);
      assert.equal(sha(await c.readFile('/a.bin') as Buffer), sha(data));
      const d = calls.data();
      assert.ok(d.write >= 1 && d.read >= 1 && d.commit >= 1, `over RPC: ${JSON.stringify(d)}`);
      const s2 = c.localio.status();
      assert.deepEqual(s2.local, { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 });
      assert.equal(s2.wire.bytesWritten, data.length);
      assert.ok(s2.wire.bytesRead >= data.length);
      assert.equal(calls.localio(), 0, 'no LOCALIO call on the wire');
      assert.equal(srv.localioStatus()?.counters.probes, 0);
      assert.equal(srv.localioStatus()?.clients.length, 0);
    } finally {
      calls.stop();
      await c.close();
      await srv.close();
    }
  });

  await t.test('server localio: false → PROG_UNAVAIL → client disabled, I/O over the wire', async () => {
    const srv = await startServer(f, [exportOf(dir)], { localio: false });
    const calls = new CallCounter(srv);
    const c = await connectTo(f, srv, dir);
    try {
      assert.equal(srv.localio, undefined);
      assert.equal(srv.localioStatus(), undefined);
      await c.localio.settled();
      const st = c.localio.status();
      assert.equal(st.state, 'disabled');
      assert.match(st.reason ?? '', /no LOCALIO program|PROG_UNAVAIL/i, `reason: ${st.reason}`);
      assert.equal(st.probes, 1);
      t.diagnostic(`disabled: ${st.reason}`);
      await c.writeFile('/b.bin', data);
      assert.equal(sha(await c.readFile('/b.bin') as Buffer), sha(data));
      const d = calls.data();
      assert.ok(d.write >= 1 && d.read >= 1, `over RPC: ${JSON.stringify(d)}`);
      assert.equal(c.localio.status().local.writes, 0);
      assert.equal(c.localio.status().state, 'disabled', 'no re-probe flapping');
    } finally {
      calls.stop();
      await c.close();
      await srv.close();
    }
  });

  await t.test('AUTH_NONE mount never probes', async () => {
    const srv = await startServer(f, [exportOf(dir)]);
    const calls = new CallCounter(srv);
    const c = await connectTo(f, srv, dir, { auth: 'none' });
    try {
      await c.localio.settled();
      const st = c.localio.status();
      assert.equal(st.state, 'off');
      assert.match(st.reason ?? '', /AUTH_NONE/);
      assert.equal(await c.readFile('/pub.txt', 'utf8'), 'public data\n');
      assert.ok(calls.data().read >= 1, 'read over the wire');
      assert.equal(st.probes, 0);
      assert.equal(srv.localioStatus()?.counters.probes, 0);
      assert.equal(calls.localio(), 0);
    } finally {
      calls.stop();
      await c.close();
      await srv.close();
    }
  });
  f.cleanup();
});

// ---------------------------------------------------------------- 3. parity

interface ParityRun {
  results: Array<[string, Outcome]>;
  /** Sum of the clients' local/wire counters and fallbacks (to show which path each run took). */
  localOps: number;
  wireOps: number;
  fallbacks: number;
}

/**
 * One scenario: a read-only export, root_squash, all_squash, mode bits,
 * supplementary groups, and permission revoked on disk between open and the
 * first I/O (so the LOCALIO run's first local open meets the gate's refusal).
 */
async function parityScenario(t: TestContext, localio: boolean): Promise<ParityRun> {
  const f = fixture(localio ? 'parity-local' : 'parity-wire');
  const results: Array<[string, Outcome]> = [];
  const rec = async (what: string, p: Promise<unknown>) => {
    results.push([what, await outcome(p)]);
  };
  const disk = (what: string, p: string) => {
    let o: Outcome;
    try {
      const st = fs.statSync(p);
      o = { ok: `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${sha(fs.readFileSync(p))}` };
    } catch (e) {
      o = { err: (e as NodeJS.ErrnoException).code ?? 'E?' };
    }
    results.push([`disk ${what}`, o]);
  };

  const roDir = f.dir('ro', TEST_UID, TEST_GID, 0o777);
  const rsDir = f.dir('rootsquash', 0, 0, 0o777);
  const asDir = f.dir('allsquash', 0, 0, 0o777);
  const rwDir = f.dir('rw', 0, 0, 0o777);
  const flipDir = f.dir('flip', TEST_UID, TEST_GID, 0o755);
  put(path.join(roDir, 'file.txt'), 'read-only export\n', TEST_UID, TEST_GID, 0o666);
  put(path.join(rsDir, 'root.txt'), 'root owned\n', 0, 0, 0o644);
  put(path.join(asDir, 'anon.txt'), 'owned by anon\n', 3000, 3000, 0o600);
  put(path.join(asDir, 'mine.txt'), 'owned by the caller, not by anon\n', TEST_UID, TEST_GID, 0o600);
  put(path.join(rwDir, 'secret.txt'), 'only 1001\n', 1001, 1001, 0o600);
  put(path.join(rwDir, 'group.txt'), 'group 2000 may read\n', 1001, 2000, 0o640);
  put(path.join(rwDir, 'revoke-r.txt'), 'readable until chmod\n', 1001, 1001, 0o644);
  put(path.join(rwDir, 'revoke-w.txt'), 'writable until chmod\n', 1001, 1001, 0o666);
  put(path.join(flipDir, 'flip.txt'), 'exported rw, then ro\n', TEST_UID, TEST_GID, 0o644);

  const srv = await startServer(f, [
    exportOf(roDir, { readOnly: true, squash: 'none' }),
    exportOf(rsDir, { squash: 'root', anonuid: 65534, anongid: 65534 }),
    exportOf(asDir, { squash: 'all', anonuid: 3000, anongid: 3000 }),
    exportOf(rwDir, { squash: 'none' }),
    exportOf(flipDir, { squash: 'none' }),
  ]);
  const ev = clientEvents();
  const clients: NfsClient[] = [];
  const client = async (dir: string, uid: number, gid: number, gids: number[]) => {
    const c = await connectTo(f, srv, dir, { uid, gid, gids, localio });
    clients.push(c);
    await c.localio.settled();
    const st = c.localio.status();
    if (localio) assert.equal(st.state, 'local', `uid ${uid} on ${path.basename(dir)}: ${st.reason}`);
    else assert.equal(st.state, 'off');
    return c;
  };
  try {
    // read-only export
    const ro = await client(roDir, TEST_UID, TEST_GID, [TEST_GID]);
    await rec('ro: read', ro.readFile('/file.txt'));
    await rec('ro: writeFile existing', ro.writeFile('/file.txt', 'nope'));
    await rec('ro: writeFile new', ro.writeFile('/new.txt', 'nope'));
    await rec('ro: open r+', ro.open('/file.txt', 'r+').then((h) => h.close()));
    await rec('ro: truncate', ro.truncate('/file.txt', 1));
    disk('ro file.txt', path.join(roDir, 'file.txt'));
    disk('ro new.txt', path.join(roDir, 'new.txt'));

    // root_squash: uid 0 becomes 65534
    const rs = await client(rsDir, 0, 0, [0]);
    await rec('root_squash: read root-owned 0644', rs.readFile('/root.txt'));
    await rec('root_squash: writeFile root-owned 0644', rs.writeFile('/root.txt', 'overwrite'));
    await rec('root_squash: open r+ root-owned 0644', rs.open('/root.txt', 'r+').then((h) => h.close()));
    await rec('root_squash: create in a 0777 dir', rs.writeFile('/by-root.txt', 'created by squashed root'));
    await rec('root_squash: read back', rs.readFile('/by-root.txt'));
    disk('root_squash root.txt', path.join(rsDir, 'root.txt'));
    disk('root_squash by-root.txt', path.join(rsDir, 'by-root.txt'));

    // all_squash: everyone is 3000:3000
    const as = await client(asDir, TEST_UID, TEST_GID, [TEST_GID]);
    await rec('all_squash: read anon-owned 0600', as.readFile('/anon.txt'));
    const ah = await as.open('/anon.txt', 'r+');
    await rec('all_squash: write anon-owned 0600', ah.write(Buffer.from('OWNED'), 0, 5, 0));
    await rec('all_squash: sync', ah.sync());
    await rec('all_squash: read after write', ah.read(Buffer.alloc(64), 0, 64, 0));
    await ah.close();
    await rec('all_squash: read caller-owned 0600', as.readFile('/mine.txt'));
    await rec('all_squash: create', as.writeFile('/created.txt', 'all squashed'));
    disk('all_squash anon.txt', path.join(asDir, 'anon.txt'));
    disk('all_squash mine.txt', path.join(asDir, 'mine.txt'));
    disk('all_squash created.txt', path.join(asDir, 'created.txt'));

    // mode bits: 0600 owned by 1001
    const u1001 = await client(rwDir, 1001, 1001, [1001]);
    const u1002 = await client(rwDir, 1002, 1002, [1002]);
    await rec('mode: 1002 reads 0600 of 1001', u1002.readFile('/secret.txt'));
    await rec('mode: 1002 writes 0600 of 1001', u1002.writeFile('/secret.txt', 'x'));
    await rec('mode: 1001 reads own 0600', u1001.readFile('/secret.txt'));
    const sh = await u1001.open('/secret.txt', 'r+');
    await rec('mode: 1001 writes own 0600', sh.write(Buffer.from('ONLY'), 0, 4, 0));
    await rec('mode: 1001 sync', sh.sync());
    await rec('mode: 1001 reads back', sh.read(Buffer.alloc(64), 0, 64, 0));
    await sh.close();
    disk('mode secret.txt', path.join(rwDir, 'secret.txt'));

    // supplementary groups: 0640 group 2000
    const withGroup = await client(rwDir, 1003, 1003, [1003, 2000]);
    const withoutGroup = await client(rwDir, 1003, 1003, [1003]);
    await rec('groups: 1003 with 2000 reads 0640', withGroup.readFile('/group.txt'));
    await rec('groups: 1003 with 2000 writes 0640', withGroup.writeFile('/group.txt', 'x'));
    await rec('groups: 1003 without 2000 reads 0640', withoutGroup.readFile('/group.txt'));
    disk('groups group.txt', path.join(rwDir, 'group.txt'));

    // Permission taken away on disk after open, before the first I/O: the
    // local run's first local open goes through the gate and is refused.
    const rh = await u1002.open('/revoke-r.txt', 'r');
    const wh = await u1002.open('/revoke-w.txt', 'r+');
    fs.chmodSync(path.join(rwDir, 'revoke-r.txt'), 0o600);
    fs.chmodSync(path.join(rwDir, 'revoke-w.txt'), 0o644);
    await rec('revoked: read', rh.read(Buffer.alloc(64), 0, 64, 0));
    await rec('revoked: write', wh.write(Buffer.from('NO'), 0, 2, 0));
    await rec('revoked: sync', wh.sync());
    await rh.close().catch(() => undefined);
    await wh.close().catch(() => undefined);
    disk('revoked revoke-w.txt', path.join(rwDir, 'revoke-w.txt'));

    // The export turns read-only after open, before the first write: the local open for writing meets EROFS.
    const flip = await client(flipDir, TEST_UID, TEST_GID, [TEST_GID]);
    const fh = await flip.open('/flip.txt', 'r+');
    assert.equal(await srv.removeExport(flipDir), true);
    await srv.addExport(exportOf(flipDir, { readOnly: true, squash: 'none' }));
    await rec('now ro: write', fh.write(Buffer.from('NO'), 0, 2, 0));
    await rec('now ro: read', fh.read(Buffer.alloc(64), 0, 64, 0));
    await fh.close().catch(() => undefined);
    disk('now ro flip.txt', path.join(flipDir, 'flip.txt'));

    let localOps = 0;
    let wireOps = 0;
    let fallbacks = 0;
    for (const c of clients) {
      const st = c.localio.status();
      localOps += st.local.reads + st.local.writes + st.local.commits;
      wireOps += st.wire.reads + st.wire.writes + st.wire.commits;
      fallbacks += st.fallbacks;
      if (localio) assert.equal(st.state, 'local', 'still local at the end');
    }
    t.diagnostic(`${localio ? 'LOCALIO' : 'wire'} run: local ops ${localOps}, wire ops ${wireOps}, fallbacks ${fallbacks}: ${JSON.stringify(ev.events)}`);
    return { results, localOps, wireOps, fallbacks };
  } finally {
    ev.stop();
    for (const c of clients) await c.close().catch(() => undefined);
    await srv.close();
    f.cleanup();
  }
}

test('parity: ro export, root_squash, all_squash, mode bits, supplementary groups — same data and errors over the wire and over LOCALIO', { ...WATCHDOG, skip: NEED_ROOT }, async (t) => {
  const wire = await parityScenario(t, false);
  const local = await parityScenario(t, true);
  const byName = new Map(wire.results);
  // The scenario means something: the wire run gives the expected answers.
  const expect: Array<[string, string]> = [
    ['ro: writeFile new', 'EROFS'],
    ['root_squash: writeFile root-owned 0644', 'EACCES'],
    ['all_squash: read caller-owned 0600', 'EACCES'],
    ['mode: 1002 reads 0600 of 1001', 'EACCES'],
    ['groups: 1003 without 2000 reads 0640', 'EACCES'],
    ['revoked: read', 'EACCES'],
    ['revoked: write', 'EACCES'],
    ['now ro: write', 'EROFS'],
  ];
  for (const [name, code] of expect) assert.equal((byName.get(name) as { err?: string })?.err, code, `${name}: ${JSON.stringify(byName.get(name))}`);
  for (const name of ['ro: read', 'root_squash: read root-owned 0644', 'all_squash: write anon-owned 0600', 'mode: 1001 reads own 0600', 'mode: 1001 writes own 0600', 'groups: 1003 with 2000 reads 0640']) {
    assert.ok('ok' in (byName.get(name) ?? {}), `${name}: ${JSON.stringify(byName.get(name))}`);
  }
  for (const [name, o] of wire.results) t.diagnostic(`${name}: ${JSON.stringify(o)}`);
  assert.deepStrictEqual(local.results, wire.results);
  // And each run took the path it claims.
  assert.equal(wire.localOps, 0);
  assert.ok(local.localOps > 0, 'the LOCALIO run did local I/O');
  assert.ok(local.fallbacks >= 3, `the revoked and read-only opens were refused by the local gate (fallbacks ${local.fallbacks})`);
});

// ---------------------------------------------------------------- 4. local writes, COMMIT, stable writes

test('local writes: unstable + sync() is a local COMMIT, data on disk after sync; O_SYNC / O_DSYNC writes are local and stable', WATCHDOG, async (t) => {
  const f = fixture('writes');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)]);
  const calls = new CallCounter(srv);
  const c = await connectTo(f, srv, dir);
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const before = calls.data();

    // UNSTABLE: written locally, COMMIT → fsync locally, on disk after sync().
    const data = randomBytes(3 * 1024 * 1024 + 333);
    const h = await c.open('/unstable.bin', 'w');
    const s0 = c.localio.status();
    await h.write(data, 0, 1 << 20, 0);
    await h.write(data, 1 << 20, data.length - (1 << 20), 1 << 20);
    assert.ok(h.uncommittedBytes > 0, 'unstable writes are held until COMMIT');
    await h.sync();
    assert.equal(h.uncommittedBytes, 0, 'committed');
    assert.equal(sha(fs.readFileSync(path.join(dir, 'unstable.bin'))), sha(data), 'on disk after sync(), before close');
    const s1 = c.localio.status();
    assert.equal(s1.local.writes - s0.local.writes, 2);
    assert.equal(s1.local.bytesWritten - s0.local.bytesWritten, data.length);
    assert.equal(s1.local.commits - s0.local.commits, 1);
    await h.close();

    // FILE_SYNC (O_SYNC) and DATA_SYNC (O_DSYNC): local, nothing left to commit.
    const C = fs.constants;
    for (const [name, flags] of [
      ['O_SYNC', C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_SYNC],
      ['O_DSYNC', C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_DSYNC],
      ['"as" (append, O_SYNC)', 'as'],
    ] as const) {
      const d = randomBytes(200_000);
      const p = `/stable-${name.replace(/\W/g, '')}.bin`;
      const sh = await c.open(p, flags);
      const a = c.localio.status();
      const w = await sh.write(d, 0, d.length, typeof flags === 'string' ? null : 0);
      assert.equal(w.bytesWritten, d.length);
      assert.equal(sh.uncommittedBytes, 0, `${name}: stable write holds nothing for COMMIT`);
      assert.equal(sha(fs.readFileSync(path.join(dir, p))), sha(d), `${name}: on disk right after write()`);
      await sh.sync();
      await sh.close();
      const b = c.localio.status();
      assert.equal(b.local.writes - a.local.writes, 1, `${name}: local write`);
      assert.equal(b.local.commits - a.local.commits, 0, `${name}: no COMMIT needed`);
    }

    // writeFile through open(p, 'w') + close (close commits).
    const wf = randomBytes(777_777);
    await c.writeFile('/wf.bin', wf);
    assert.equal(sha(fs.readFileSync(path.join(dir, 'wf.bin'))), sha(wf));

    assert.deepEqual(calls.data(), before, 'no READ/WRITE/COMMIT over RPC');
    const st = c.localio.status();
    t.diagnostic(`local ${JSON.stringify(st.local)}`);
    assert.equal(st.fallbacks, 0);
    assert.equal(c.stats().io.verifierMismatches, 0);
  } finally {
    calls.stop();
    await c.close();
    await srv.close();
    f.cleanup();
  }
});

test('set-id bits: a LOCALIO read-write open by a caller without CAP_FSETID drops them as the first wire WRITE would', { ...WATCHDOG, skip: NEED_ROOT }, async (t) => {
  const f = fixture('setid');
  const dir = f.dir('export', 0, 0, 0o777);
  const srv = await startServer(f, [exportOf(dir, { squash: 'none' })]);
  try {
    for (const localio of [true, false]) {
      const name = `suid-${localio ? 'local' : 'wire'}`;
      put(path.join(dir, name), 'x', 1000, 1000, 0o6777);
      // This test process is root (CAP_FSETID): its own writes would never drop the bits; the server must.
      const c = await connectTo(f, srv, dir, { uid: 1001, gid: 1001, gids: [1001], localio });
      try {
        if (localio) await c.localio.settled();
        const h = await c.open(`/${name}`, 'r+');
        await h.write(Buffer.from('written by 1001'), 0, 15, 0);
        await h.close();
        assert.equal(fs.statSync(path.join(dir, name)).mode & 0o7777, 0o777, `${name}: S_ISUID and S_ISGID dropped`);
        if (localio) assert.ok(c.localio.status().local.writes > 0, 'the write went local');
        else assert.equal(c.localio.status().local.writes, 0);
        t.diagnostic(`${name}: ${(fs.statSync(path.join(dir, name)).mode & 0o7777).toString(8)}`);
      } finally {
        await c.close();
      }
    }
  } finally {
    await srv.close();
    f.cleanup();
  }
});

test('local write error changes the write verifier: uncommitted data is re-sent, and the error is the one the wire gives', WATCHDOG, async (t) => {
  const f = fixture('verifier');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)]);
  const results: Record<string, Outcome> = {};
  try {
    for (const localio of [false, true]) {
      const c = await connectTo(f, srv, dir, { localio });
      try {
        await c.localio.settled();
        assert.equal(c.localio.status().state, localio ? 'local' : 'off');
        const p = `/v-${localio}.bin`;
        const h = await c.open(p, 'w');
        const good = randomBytes(100_000);
        await h.write(good, 0, good.length, 0);
        assert.ok(h.uncommittedBytes > 0);
        // Far beyond the largest file size of the file system: EFBIG (or EINVAL) from pwrite.
        results[localio ? 'local' : 'wire'] = await outcome(h.write(Buffer.from('x'), 0, 1, 2 ** 52));
        const mm = c.stats().io.verifierMismatches;
        await h.sync();
        assert.equal(sha(fs.readFileSync(path.join(dir, p))), sha(good), 'the good data is on disk');
        if (localio) {
          assert.equal(c.stats().io.verifierMismatches - mm, 1, 'the COMMIT saw a new verifier: the bytes written before the error were re-sent');
          assert.ok(c.stats().io.resentBytes >= good.length);
          assert.ok(c.localio.status().local.writes >= 2);
        }
        await h.close();
        t.diagnostic(`${localio ? 'local' : 'wire'}: ${JSON.stringify(results[localio ? 'local' : 'wire'])}, resent ${c.stats().io.resentBytes} bytes`);
      } finally {
        await c.close();
      }
    }
    assert.ok('err' in results.wire, `the huge write fails over the wire: ${JSON.stringify(results.wire)}`);
    assert.deepStrictEqual(results.local, results.wire);
  } finally {
    await srv.close();
    f.cleanup();
  }
});

for (const local of [true, false]) {
  test(`${local ? 'local' : 'wire'} writes keep pooled copies: pieces of overwritten writes, a re-send after a verifier change and reused buffers keep every byte exact`, WATCHDOG, async (t) => {
  const f = fixture(local ? 'copies' : 'wire-copies');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)]);
  const c = await connectTo(f, srv, dir, { localio: local });
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, local ? 'local' : 'off');
    const model = Buffer.alloc(4 << 20);
    const h = await c.open('/pool.bin', 'w');
    /** Write `n` random bytes at `pos` from a buffer the caller scribbles over right after. */
    const put = async (pos: number, n: number) => {
      const b = randomBytes(n);
      b.copy(model, pos);
      await h.write(b, 0, n, pos);
      b.fill(0xee); // the caller reuses its buffer: what was written must not change
    };
    const onDisk = () => sha(fs.readFileSync(path.join(dir, 'pool.bin')));
    for (let round = 0; round < 2; round++) {
      // 512 KiB writes (pooled), then unaligned overwrites of the same size class that cut them into
      // pieces still viewing their copies, while the overwrites' own copies come from the same pool
      for (let i = 0; i < 8; i++) await put(i * (512 << 10), 512 << 10);
      await put(300_000, 300_000); // across the first two writes
      await put((1 << 20) + 100_000, 400_000);
      await put((3 << 20) + 7, 70_000);
      assert.ok(h.uncommittedBytes >= 4 << 20);
      if (round === 0) {
        // A write the file system refuses changes the verifier: the next COMMIT re-sends everything.
        const refused = await outcome(h.write(Buffer.from('x'), 0, 1, 2 ** 52));
        assert.ok('err' in refused, JSON.stringify(refused));
      }
      const resent = c.stats().io.resentBytes;
      await h.sync();
      if (round === 0) assert.ok(c.stats().io.resentBytes - resent >= 4 << 20, 'every uncommitted byte was re-sent from its copy');
      assert.equal(h.uncommittedBytes, 0);
      assert.equal(onDisk(), sha(model), `round ${round}: the file holds exactly the newest bytes`);
      assert.ok(c.buffers.idle >= 1, `round ${round}: committed copies are back in the pool (${c.buffers.idle})`);
    }
    await h.close();
    t.diagnostic(`resent ${c.stats().io.resentBytes} bytes; ${c.buffers.idle} copy buffers idle; local ${JSON.stringify(c.localio.status().local)}, wire ${JSON.stringify(c.localio.status().wire)}`);
    if (!local) assert.equal(c.localio.status().local.writes, 0, 'every write went over the wire');
  } finally {
    await c.close();
    await srv.close();
    f.cleanup();
  }
});
}

test('pieces read locally come in recycled buffers: released ones are reused, one kept is never overwritten, every byte is the file\'s', WATCHDOG, async () => {
  const f = fixture('pieces');
  const dir = f.dir('export');
  const content = randomBytes(8 * 1024 * 1024 + 4321);
  fs.writeFileSync(path.join(dir, 'p.bin'), content);
  fs.chmodSync(path.join(dir, 'p.bin'), 0o644);
  const srv = await startServer(f, [exportOf(dir)]);
  const c = await connectTo(f, srv, dir);
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const reads = c.localio.status().local.reads;
    const h = await c.open('/p.bin', 'r');
    for (let pass = 0; pass < 2; pass++) {
      let kept: { chunks: Buffer[]; at: number } | undefined;
      let at = 0;
      for await (const p of h.pieces({ start: 0, readAhead: 4 })) {
        assert.ok(Buffer.concat(p.chunks).equals(content.subarray(at, at + p.length)), `pass ${pass}: bytes at ${at}`);
        if (kept === undefined) kept = { chunks: p.chunks, at }; // not released: its buffer must stay ours
        else p.release();
        at += p.length;
      }
      assert.equal(at, content.length);
      const k = kept!;
      assert.ok(Buffer.concat(k.chunks).equals(content.subarray(k.at, k.at + Buffer.concat(k.chunks).length)), 'the piece kept still holds its bytes');
    }
    assert.ok(c.localio.status().local.reads - reads >= 16, 'read locally');
    assert.ok(c.buffers.idle >= 1, `released pieces' buffers are back in the pool (${c.buffers.idle})`);
    await h.close();
  } finally {
    await c.close();
    await srv.close();
    f.cleanup();
  }
});

// ---------------------------------------------------------------- 5. close under load

test('close() with 16 busy local readers and writers: not pinned, client disabled, no descriptor left, no committed write lost', WATCHDOG, async (t) => {
  const f = fixture('close');
  const dir = f.dir('export');
  const CHUNK = 64 * 1024;
  const READ_SIZE = 512 * 1024;
  const readerData: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    const d = randomBytes(READ_SIZE);
    readerData.push(d);
    put(path.join(dir, `r${i}.bin`), d, TEST_UID, TEST_GID, 0o644);
  }
  const logs = captureLog();
  const srv = await startServer(f, [exportOf(dir)]);
  // soft, so the I/O that falls back to the wire after close fails instead of retrying forever
  const c = await connectTo(f, srv, dir, { mode: 'soft', timeout: 1000, retrans: 1 });
  const pattern = (w: number, i: number) => {
    const b = Buffer.alloc(CHUNK, (w * 31 + i) & 0xff);
    b.writeUInt32BE(w, 0);
    b.writeUInt32BE(i, 4);
    return b;
  };
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    let stop = false;
    const committed: Array<{ w: number; i: number }> = [];
    const iterations = new Array<number>(16).fill(0);
    const errors: string[] = [];
    const badReads: string[] = [];
    const workers = Array.from({ length: 16 }, async (_, w) => {
      const writer = w % 2 === 0;
      const h = await c.open(writer ? `/w${w}.bin` : `/r${w >> 1}.bin`, writer ? 'w' : 'r');
      try {
        for (let i = 0; !stop; i++) {
          if (writer) {
            await h.write(pattern(w, i), 0, CHUNK, i * CHUNK);
            await h.sync();
            committed.push({ w, i });
          } else {
            const pos = (i * 7919 * 64) % (READ_SIZE - 65536);
            const buf = Buffer.alloc(65536);
            const r = await h.read(buf, 0, 65536, pos);
            if (r.bytesRead !== 65536 || !buf.equals(readerData[w >> 1].subarray(pos, pos + 65536))) badReads.push(`worker ${w} iter ${i} at ${pos}: ${r.bytesRead} bytes`);
          }
          iterations[w]++;
        }
      } catch (e) {
        errors.push(`worker ${w}: ${(e as { code?: string }).code ?? (e as Error).message}`);
      }
    });
    await waitFor('every worker did 3 local iterations', () => iterations.every((n) => n >= 3), 15_000, 25);
    const mid = c.localio.status();
    assert.equal(mid.state, 'local');
    assert.ok(mid.local.writes >= 24 && mid.local.reads >= 24 && mid.local.commits >= 24, `local while busy: ${JSON.stringify(mid.local)}`);
    assert.ok((srv.localioStatus()?.clients[0].openFiles ?? 0) >= 16, 'descriptors shared with the client');

    const t0 = performance.now();
    await deadline(srv.close(), 10_000, 'server.close()');
    const elapsed = performance.now() - t0;
    t.diagnostic(`server.close() with 16 busy local workers: ${elapsed.toFixed(1)} ms (issue bound 2000 ms); iterations before stop: ${iterations.join(',')}`);
    // Right after close() resolved: the client has been told, and let go.
    const st = c.localio.status();
    stop = true;
    t.diagnostic(`client right after close: ${st.state} (${st.reason})`);
    assert.equal(st.state, 'disabled');
    assert.match(st.reason ?? '', /shutting down/);
    assert.equal(st.openFiles, 0, 'the client dropped its descriptors');
    assert.ok(st.disables >= 1 && st.invalidations >= 1, `disables ${st.disables}, invalidations ${st.invalidations}`);
    const sst = srv.localioStatus();
    assert.equal(sst?.enabled, false);
    assert.equal(sst?.clients.length, 0, 'no binding left on the server');
    assert.ok((sst?.counters.invalidations ?? 0) >= 1, 'the server invalidated its clients');
    // Not pinned: the server never had to give up waiting for a client or for in-flight local I/O.
    const timeouts = logs.lines.filter((l) => /localio\.(invalidate\.timeout|close\.undrained)/.test(l));
    assert.deepEqual(timeouts, [], 'no invalidation or drain timeout');

    await deadline(Promise.all(workers), 15_000, 'workers after close');
    t.diagnostic(`worker errors after close (I/O falls back to the closed wire): ${errors.join('; ') || 'none'}`);
    assert.deepEqual(badReads, []);

    await c.localio.close();
    c.destroy();
    const leaked = fdsUnder(dir);
    assert.deepEqual(leaked, [], 'no descriptor under the export after close');

    // Every write whose sync() resolved is on disk.
    assert.ok(committed.length >= 24);
    const files = new Map<number, Buffer>();
    for (const { w, i } of committed) {
      let b = files.get(w);
      if (!b) files.set(w, (b = fs.readFileSync(path.join(dir, `w${w}.bin`))));
      assert.ok(b.length >= (i + 1) * CHUNK, `w${w}.bin holds chunk ${i}`);
      assert.ok(b.subarray(i * CHUNK, (i + 1) * CHUNK).equals(pattern(w, i)), `w${w}.bin chunk ${i} intact`);
    }
    t.diagnostic(`${committed.length} committed writes verified on disk`);
  } finally {
    logs.restore();
    c.destroy();
    await srv.close();
    f.cleanup();
  }
});

test('close() whose bounded wait expires must not close a descriptor under local I/O still in flight', { ...WATCHDOG }, async (t) => {
  const f = fixture('inflight');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)], { localioInvalidateTimeoutMs: 1 });
  const c = await connectTo(f, srv, dir, { mode: 'soft', timeout: 1000, retrans: 1 });
  const ev = clientEvents();
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const C = fs.constants;
    const h = await c.open('/big.bin', C.O_WRONLY | C.O_CREAT | C.O_SYNC);
    await h.write(Buffer.alloc(4096), 0, 4096, 0); // the descriptor is cached now
    const big = Buffer.alloc(64 * 1024 * 1024, 7);
    const w = outcome(h.write(big, 0, big.length, 0)); // FILE_SYNC: pwrite, then fsync on the same descriptor
    await sleep(1);
    await srv.close();
    const r = await w;
    t.diagnostic(`write: ${JSON.stringify(r)}; client events: ${JSON.stringify(ev.events)}`);
    assert.deepEqual(ev.events.filter((e) => e.code === 'EBADF'), [], 'the descriptor was closed under the local write');
  } finally {
    ev.stop();
    c.destroy();
    await srv.close();
    f.cleanup();
  }
});

// ---------------------------------------------------------------- 6. restart on the same port

test('restart on the same port: the client falls back, I/O works against the new server, and it becomes local again', WATCHDOG, async (t) => {
  const f = fixture('restart');
  const dir = f.dir('export');
  put(path.join(dir, 'keep.bin'), randomBytes(100_000), TEST_UID, TEST_GID, 0o644);
  const keep = fs.readFileSync(path.join(dir, 'keep.bin'));
  let a: NfsServer | undefined = await startServer(f, [exportOf(dir)]);
  const port = a.port;
  let b: NfsServer | undefined;
  const c = await connectTo(f, a, dir); // hard mode (the default)
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const instanceA = c.localio.status().server?.instance;
    assert.equal(sha(await c.readFile('/keep.bin') as Buffer), sha(keep));
    const probes0 = c.localio.status().probes;
    const local0 = c.localio.status().local.reads;
    assert.ok(local0 >= 1);
    // A handle opened on A, used again on B (same handles: same stateDir).
    const h = await c.open('/keep.bin', 'r');
    // Unstable data written locally on A, committed after the restart.
    const unstable = randomBytes(200_000);
    const wh = await c.open('/unstable.bin', 'w');
    await wh.write(unstable, 0, unstable.length, 0);
    assert.ok(wh.uncommittedBytes > 0);

    await a.close();
    a = undefined;
    const down = c.localio.status();
    assert.equal(down.state === 'disabled' || down.state === 'probing', true, `after A closed: ${down.state}`);
    t.diagnostic(`after A closed: ${down.state} (${down.reason})`);

    // I/O while the server is down: it waits (hard) and completes once B is up.
    const pending = c.readFile('/keep.bin');
    const pendingWrite = c.writeFile('/during.bin', 'written across the restart');
    await sleep(300);
    const t0 = performance.now();
    b = await startServer(f, [exportOf(dir)], { port });
    assert.equal(b.port, port);
    assert.equal(sha(await deadline(pending, 20_000, 'read across the restart') as Buffer), sha(keep));
    await deadline(pendingWrite, 20_000, 'write across the restart');
    assert.equal(fs.readFileSync(path.join(dir, 'during.bin'), 'utf8'), 'written across the restart');
    await deadline(wh.close(), 20_000, 'commit across the restart');
    assert.equal(sha(fs.readFileSync(path.join(dir, 'unstable.bin'))), sha(unstable), 'data written locally before the restart, committed after it');

    await waitFor('local again', () => c.localio.status().state === 'local', 10_000, 25);
    t.diagnostic(`local again ${(performance.now() - t0).toFixed(0)} ms after B started`);
    const st = c.localio.status();
    assert.ok(st.probes > probes0, `re-probed (${probes0} → ${st.probes})`);
    assert.equal(st.server?.instance, b.localioStatus()?.instance);
    assert.notEqual(st.server?.instance, instanceA);
    assert.equal(b.localioStatus()?.clients.length, 1);

    // And I/O is local on B.
    const calls = new CallCounter(b);
    const r0 = c.localio.status().local.reads;
    assert.equal(sha(await c.readFile('/keep.bin') as Buffer), sha(keep));
    const buf = Buffer.alloc(1000);
    assert.equal((await h.read(buf, 0, 1000, 500)).bytesRead, 1000);
    assert.ok(buf.equals(keep.subarray(500, 1500)));
    await h.close();
    assert.ok(c.localio.status().local.reads > r0, 'reads are local again');
    assert.equal(calls.data().read, 0, 'no READ over RPC on B once local');
    calls.stop();
  } finally {
    if (b) {
      await c.close();
      await b.close();
    } else c.destroy();
    await a?.close();
    f.cleanup();
  }
});

// ---------------------------------------------------------------- 7. unexport

test("unexport: removeExport closes that export's local descriptors only; the other client stays local; a read on the removed export fails with ESTALE", WATCHDOG, async (t) => {
  const f = fixture('unexport');
  const dirA = f.dir('expA');
  const dirB = f.dir('expB');
  const dataA = randomBytes(64 * 1024);
  const dataB = randomBytes(64 * 1024);
  put(path.join(dirA, 'a.bin'), dataA, TEST_UID, TEST_GID, 0o644);
  put(path.join(dirB, 'b.bin'), dataB, TEST_UID, TEST_GID, 0o644);
  const logs = captureLog();
  const srv = await startServer(f, [exportOf(dirA), exportOf(dirB)]);
  const ca = await connectTo(f, srv, dirA);
  const cb = await connectTo(f, srv, dirB);
  const wireA = await connectTo(f, srv, dirA, { localio: false, mode: 'soft', timeout: 2000, retrans: 1 });
  try {
    await ca.localio.settled();
    await cb.localio.settled();
    assert.equal(ca.localio.status().state, 'local');
    assert.equal(cb.localio.status().state, 'local');
    const ha = await ca.open('/a.bin', 'r');
    const hb = await cb.open('/b.bin', 'r');
    const hw = await wireA.open('/a.bin', 'r');
    const buf = Buffer.alloc(4096);
    assert.equal((await ha.read(buf, 0, 4096, 0)).bytesRead, 4096);
    assert.ok(buf.equals(dataA.subarray(0, 4096)));
    assert.equal((await hb.read(buf, 0, 4096, 0)).bytesRead, 4096);
    assert.ok(buf.equals(dataB.subarray(0, 4096)));
    assert.equal((await hw.read(buf, 0, 4096, 0)).bytesRead, 4096);
    const bindings = srv.localioStatus()?.clients ?? [];
    assert.equal(bindings.length, 2);
    for (const bd of bindings) assert.ok(bd.openFiles > 0, `binding ${bd.id} holds a descriptor`);
    assert.ok(fdsUnder(path.join(dirA, 'a.bin')).length > 0, 'a.bin is open before the unexport');
    assert.ok(fdsUnder(path.join(dirB, 'b.bin')).length > 0, 'b.bin is open before the unexport');

    const t0 = performance.now();
    assert.equal(await deadline(srv.removeExport(dirA), 5_000, 'removeExport'), true);
    t.diagnostic(`removeExport: ${(performance.now() - t0).toFixed(1)} ms`);
    assert.deepEqual(fdsUnder(dirA), [], 'no descriptor under the removed export');
    assert.deepEqual(logs.lines.filter((l) => /localio\.invalidate\.timeout/.test(l)), []);

    // B: untouched, still local, its descriptor still open and used.
    assert.equal(cb.localio.status().state, 'local');
    assert.ok(cb.localio.status().openFiles >= 1, 'client B keeps its descriptor');
    assert.ok(fdsUnder(path.join(dirB, 'b.bin')).length > 0, 'b.bin still open');
    const rb = cb.localio.status().local.reads;
    assert.equal((await hb.read(buf, 0, 4096, 8192)).bytesRead, 4096);
    assert.ok(buf.equals(dataB.subarray(8192, 8192 + 4096)));
    assert.equal(cb.localio.status().local.reads, rb + 1, 'B reads locally');
    const bb = srv.localioStatus()?.clients ?? [];
    assert.equal(bb.length, 2, 'both bindings stay (only files were invalidated)');

    // A: its cached descriptor is gone; the next read fails as the wire does, without hanging.
    assert.equal(ca.localio.status().openFiles, 0);
    const localErr = await outcome(deadline(ha.read(buf, 0, 4096, 0), 5_000, 'read on the removed export'));
    const wireErr = await outcome(deadline(hw.read(buf, 0, 4096, 0), 5_000, 'wire read on the removed export'));
    t.diagnostic(`read after unexport: local client ${JSON.stringify(localErr)}, wire client ${JSON.stringify(wireErr)}`);
    assert.equal((localErr as { err?: string }).err, 'ESTALE');
    assert.deepStrictEqual(localErr, wireErr);
    await ha.close().catch(() => undefined);
    await hw.close().catch(() => undefined);
    await hb.close();
  } finally {
    logs.restore();
    await ca.close().catch(() => ca.destroy());
    await cb.close();
    await wireA.close().catch(() => wireA.destroy());
    await srv.close();
    f.cleanup();
  }
});

// ---------------------------------------------------------------- 8. nothing leaks

test('no leak: after client.close() and server.close() no descriptor under the export, no nonce, no rendezvous socket', WATCHDOG, async () => {
  const f = fixture('leak');
  const dir = f.dir('export');
  const srv = await startServer(f, [exportOf(dir)]);
  const clients = [await connectTo(f, srv, dir), await connectTo(f, srv, dir), await connectTo(f, srv, dir, { localio: false })];
  try {
    for (const c of clients) await c.localio.settled();
    assert.equal(registeredNonces(), 0, 'nonces exist only while a probe is in flight');
    assert.deepEqual(fs.readdirSync(f.rv), [], 'no rendezvous socket left after the probes');
    for (const [i, c] of clients.entries()) {
      for (let k = 0; k < 4; k++) {
        await c.writeFile(`/c${i}-${k}.bin`, randomBytes(50_000 + k));
        await c.readFile(`/c${i}-${k}.bin`);
      }
    }
    // Some handles still open (with uncommitted data) when the client closes.
    const open = [await clients[0].open('/c0-0.bin', 'r+'), await clients[1].open('/c1-1.bin', 'r')];
    await open[0].write(Buffer.from('tail'), 0, 4, 50_000);
    await open[1].read(Buffer.alloc(100), 0, 100, 0);
    assert.ok((srv.localioStatus()?.clients.reduce((n, b) => n + b.openFiles, 0) ?? 0) >= 1);
    assert.ok(fdsUnder(dir).length > 0, 'descriptors open while in use');
  } finally {
    for (const c of clients) await c.close();
    await srv.close();
  }
  assert.equal(fs.readFileSync(path.join(dir, 'c0-0.bin')).subarray(50_000).toString(), 'tail', 'client close committed');
  assert.deepEqual(fdsUnder(dir), [], 'no descriptor under the export');
  assert.equal(registeredNonces(), 0);
  assert.deepEqual(fs.readdirSync(f.rv), []);
  f.cleanup();
});

test('idle descriptors: the client closes a cached descriptor unused for localioIdleMs', WATCHDOG, async () => {
  const f = fixture('idle');
  const dir = f.dir('export');
  put(path.join(dir, 'x.bin'), randomBytes(10_000), TEST_UID, TEST_GID, 0o644);
  const srv = await startServer(f, [exportOf(dir)]);
  const c = await connectTo(f, srv, dir, { localioIdleMs: 200 });
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const h = await c.open('/x.bin', 'r');
    await h.read(Buffer.alloc(100), 0, 100, 0);
    assert.equal(c.localio.status().openFiles, 1);
    assert.equal(srv.localioStatus()?.clients[0].openFiles, 1);
    await waitFor('the idle descriptor closed', () => c.localio.status().openFiles === 0, 5_000, 25);
    assert.equal(srv.localioStatus()?.clients[0].openFiles, 0, 'and the server dropped its reference');
    assert.equal(c.localio.status().state, 'local', 'still local');
    // Used again: reopened locally.
    const r0 = c.localio.status().local.reads;
    await h.read(Buffer.alloc(100), 0, 100, 0);
    assert.equal(c.localio.status().local.reads, r0 + 1);
    await h.close();
  } finally {
    await c.close();
    await srv.close();
    f.cleanup();
  }
});

test('a loop of awaited local reads served from the page cache still lets timers and sockets run', WATCHDOG, async (t) => {
  const f = fixture('yield');
  const dir = f.dir('export');
  put(path.join(dir, 'x.bin'), randomBytes(1 << 20), TEST_UID, TEST_GID, 0o644);
  const srv = await startServer(f, [exportOf(dir)]);
  const c = await connectTo(f, srv, dir);
  try {
    await c.localio.settled();
    assert.equal(c.localio.status().state, 'local');
    const h = await c.open('/x.bin', 'r');
    const buf = Buffer.alloc(4096);
    let fired = false;
    setTimeout(() => (fired = true), 20);
    let reads = 0;
    // Without yielding, this loop would spin on microtasks forever and the timer would never fire.
    while (!fired) {
      await h.read(buf, 0, 4096, (reads++ % 256) * 4096);
      if (reads > 5_000_000) break;
    }
    assert.ok(fired, 'the timer fired while the loop ran');
    t.diagnostic(`${reads} local reads before the 20 ms timer fired`);
    await h.close();
  } finally {
    await c.close();
    await srv.close();
    f.cleanup();
  }
});
