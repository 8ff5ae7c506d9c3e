/**
 * npm run bench:v4 — the NFSv4.1 path of our server against its NFSv3 path, with the same small
 * pipelining driver on both (the v4 client library does not exist yet): reads and writes of
 * 1 MiB, BENCH_DEPTH in flight, of a BENCH_SIZE_MB file, and a listing of a BENCH_NFILES-entry
 * directory with attributes (READDIRPLUS / READDIR with what the Linux client asks for). Reports
 * medians and the ratios v4 / v3 (throughput) and v4 / v3 (listing time), checks every read
 * against the file, writes JSON to bench/results/.
 *
 * Environment: BENCH_RUNS (6), BENCH_SIZE_MB (1024), BENCH_NFILES (10000), BENCH_DEPTH (16).
 * The two paths take turns going first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { median } from './common.js';
import { REPO, startServer } from '../tests/helpers/server-process.js';
import { RpcClient } from '../src/rpc/client.js';
import { AuthFlavor, encodeAuthSys } from '../src/rpc/auth.js';
import { NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc } from '../src/nfs3/constants.js';
import { MOUNT_PROGRAM, MOUNT_V3 } from '../src/mount/constants.js';
import { decodeMntRes, encodeDirpath } from '../src/mount/codec.js';
import { encodeCommitArgs, encodeReadArgs, encodeReaddirplusArgs, encodeWriteArgs } from '../src/nfs3/codec/args.js';
import { decodeReadRes, decodeReaddirplusRes } from '../src/nfs3/codec/results-decode.js';
import { Attr4 as A, Nfs4Op as P } from '../src/nfs4/constants.js';
import { bitmap4 } from '../src/nfs4/codec/bitmap.js';
import { V4Conn, V4Session, ok } from '../tests/helpers/nfs4-test-client.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const NFILES = Number(process.env.BENCH_NFILES ?? 10000);
const DEPTH = Number(process.env.BENCH_DEPTH ?? 16);
const MiB = 1 << 20;
const CRED = { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine: 'bench', uid: 0, gid: 0, gids: [] }) };
/** What the Linux client's NFSv4 READDIR asks for per entry. */
const LIST_ATTRS = bitmap4(A.TYPE, A.CHANGE, A.SIZE, A.FSID, A.FILEID, A.MODE, A.NUMLINKS, A.OWNER, A.OWNER_GROUP, A.RAWDEV, A.SPACE_USED, A.TIME_ACCESS, A.TIME_METADATA, A.TIME_MODIFY, A.MOUNTED_ON_FILEID);

interface Path {
  name: 'v3' | 'v4.1';
  read(): Promise<Buffer[]>;
  write(data: Buffer): Promise<void>;
  list(): Promise<number>;
  close(): Promise<void>;
}

/** Run `n` jobs, `depth` at a time. */
async function pipelined(n: number, depth: number, job: (i: number, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(depth, n) }, async (_, lane) => {
    while (next < n) await job(next++, lane);
  }));
}

async function v3Path(port: number, exp: string): Promise<Path> {
  const rpc = await RpcClient.connect(port);
  const mnt = decodeMntRes((await rpc.call(MOUNT_PROGRAM, MOUNT_V3, 1, (w) => encodeDirpath(w, exp), CRED)).reader);
  if (mnt.status !== 0) throw new Error(`MNT ${exp}: ${mnt.status}`);
  const lookup = async (name: string): Promise<Buffer> => {
    const { reader } = await rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.LOOKUP, (w) => void w.opaque(mnt.fhandle).string(name), CRED);
    if (reader.uint32() !== 0) throw new Error(`LOOKUP ${name}`);
    return Buffer.from(reader.opaque(64));
  };
  const readFh = await lookup('read.bin');
  const writeFh = await lookup('write.bin');
  const listFh = await lookup('list');
  return {
    name: 'v3',
    async read() {
      const out: Buffer[] = [];
      await pipelined(SIZE_MB, DEPTH, async (i) => {
        const { reader } = await rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.READ, (w) => encodeReadArgs(w, { file: readFh, offset: BigInt(i) * BigInt(MiB), count: MiB }), CRED);
        const r = decodeReadRes(reader, 2 * MiB);
        if (r.status !== 0 || r.count !== MiB) throw new Error(`v3 READ ${i}: ${r.status}`);
        out[i] = Buffer.from(r.data);
      });
      return out;
    },
    async write(data) {
      await pipelined(SIZE_MB, DEPTH, async (i) => {
        const { reader } = await rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.WRITE, (w) => encodeWriteArgs(w, { file: writeFh, offset: BigInt(i) * BigInt(MiB), count: MiB, stable: 0, data }), CRED);
        if (reader.uint32() !== 0) throw new Error(`v3 WRITE ${i}`);
      });
      await rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.COMMIT, (w) => encodeCommitArgs(w, { file: writeFh, offset: 0n, count: 0 }), CRED);
    },
    async list() {
      let cookie = 0n;
      let verf = Buffer.alloc(8);
      let n = 0;
      for (;;) {
        const { reader } = await rpc.call(NFS3_PROGRAM, NFS3_VERSION, Nfs3Proc.READDIRPLUS, (w) => encodeReaddirplusArgs(w, { dir: listFh, cookie, cookieverf: verf, dircount: 65536, maxcount: 65536 }), CRED);
        const r = decodeReaddirplusRes(reader);
        if (r.status !== 0) throw new Error(`READDIRPLUS ${r.status}`);
        n += r.entries.filter((e) => e.name !== '.' && e.name !== '..').length;
        if (r.eof) return n;
        cookie = r.entries[r.entries.length - 1].cookie;
        verf = Buffer.from(r.cookieverf);
      }
    },
    close: () => rpc.close(),
  };
}

async function v4Path(port: number, exp: string): Promise<Path> {
  const conn = await V4Conn.connect(port);
  const s = await V4Session.create(conn, 1, { channel: { maxRequests: DEPTH } });
  const dir = await s.lookup(exp);
  const r = await s.open(dir, 'read.bin', { access: 1, owner: 'bench-r' });
  const w = await s.open(dir, 'write.bin', { access: 2, owner: 'bench-w' });
  const list = await s.lookup(path.join(exp, 'list'));
  return {
    name: 'v4.1',
    async read() {
      const out: Buffer[] = [];
      await pipelined(SIZE_MB, DEPTH, async (i, lane) => {
        const res = ok(await s.run([{ op: P.PUTFH, args: { object: r.fh! } }, { op: P.READ, args: { stateid: r.stateid!, offset: BigInt(i) * BigInt(MiB), count: MiB } }], { slot: lane }), P.READ);
        if (res.data.length !== MiB) throw new Error(`v4 READ ${i}: ${res.data.length}`);
        out[i] = Buffer.from(res.data);
      });
      return out;
    },
    async write(data) {
      await pipelined(SIZE_MB, DEPTH, async (i, lane) => {
        ok(await s.run([{ op: P.PUTFH, args: { object: w.fh! } }, { op: P.WRITE, args: { stateid: w.stateid!, offset: BigInt(i) * BigInt(MiB), stable: 0, data } }], { slot: lane }), P.WRITE);
      });
      ok(await s.run([{ op: P.PUTFH, args: { object: w.fh! } }, { op: P.COMMIT, args: { offset: 0n, count: 0 } }]), P.COMMIT);
    },
    async list() {
      let cookie = 0n;
      let n = 0;
      for (;;) {
        const res = ok(await s.run([{ op: P.PUTFH, args: { object: list } }, { op: P.READDIR, args: { cookie, cookieverf: Buffer.alloc(8), dircount: 65536, maxcount: 65536, attrRequest: LIST_ATTRS } }]), P.READDIR);
        n += res.entries.length;
        if (res.eof) return n;
        cookie = res.entries[res.entries.length - 1].cookie;
      }
    },
    close: async () => {
      await s.destroy();
      await conn.close();
    },
  };
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, v];
}

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-bench-v4-'));
  const exp = path.join(base, 'export');
  fs.mkdirSync(path.join(exp, 'list'), { recursive: true });
  fs.mkdirSync(path.join(base, 'state'));
  const data = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) data.writeUInt32BE(i * 2654435761 >>> 0, i);
  const fd = fs.openSync(path.join(exp, 'read.bin'), 'w');
  for (let i = 0; i < SIZE_MB; i++) fs.writeSync(fd, data);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(exp, 'write.bin'), '');
  for (let i = 0; i < NFILES; i++) fs.writeFileSync(path.join(exp, 'list', `f${i}`), '');
  const want = createHash('sha256').update(data).digest('hex');
  const server = await startServer({ dir: exp, stateDir: path.join(base, 'state'), exportsText: `${exp} 127.0.0.1(rw,insecure,no_root_squash)\n` });
  const results: Record<string, { read: number[]; write: number[]; list: number[] }> = { v3: { read: [], write: [], list: [] }, 'v4.1': { read: [], write: [], list: [] } };
  try {
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? [v3Path, v4Path] : [v4Path, v3Path];
      for (const make of order) {
        const p = await make(server.port, exp);
        const [rs, chunks] = await time(() => p.read());
        for (const c of chunks) if (createHash('sha256').update(c).digest('hex') !== want) throw new Error(`${p.name}: a READ returned other bytes`);
        const [ws] = await time(() => p.write(data));
        const [ls, n] = await time(() => p.list());
        if (n !== NFILES) throw new Error(`${p.name}: listed ${n} of ${NFILES}`);
        await p.close();
        results[p.name].read.push(SIZE_MB / rs);
        results[p.name].write.push(SIZE_MB / ws);
        results[p.name].list.push(ls);
        console.log(`run ${run + 1} ${p.name.padEnd(4)} read ${(SIZE_MB / rs).toFixed(0)} MiB/s  write ${(SIZE_MB / ws).toFixed(0)} MiB/s  list ${NFILES} in ${ls.toFixed(3)} s`);
      }
    }
  } finally {
    await server.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
  const m = (k: 'v3' | 'v4.1', f: 'read' | 'write' | 'list') => median(results[k][f]);
  const summary = {
    date: new Date().toISOString(),
    sizeMiB: SIZE_MB,
    files: NFILES,
    depth: DEPTH,
    runs: RUNS,
    medians: { v3: { readMiBs: m('v3', 'read'), writeMiBs: m('v3', 'write'), listSeconds: m('v3', 'list') }, v41: { readMiBs: m('v4.1', 'read'), writeMiBs: m('v4.1', 'write'), listSeconds: m('v4.1', 'list') } },
    ratios: { read: m('v4.1', 'read') / m('v3', 'read'), write: m('v4.1', 'write') / m('v3', 'write'), listTime: m('v4.1', 'list') / m('v3', 'list') },
    raw: results,
  };
  console.log(`v4.1 / v3: read ${summary.ratios.read.toFixed(2)}x, write ${summary.ratios.write.toFixed(2)}x, listing time ${summary.ratios.listTime.toFixed(2)}x`);
  const out = path.join(REPO, 'bench/results/v4-vs-v3.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
  console.log(`written ${path.relative(REPO, out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
