/**
 * A loopback NFSv4 peer made of our codec alone, for checking its bytes
 * against Wireshark (tests/interop/nfs4-codec-tshark.test.ts runs it under
 * tshark-nfs.sh). One process, both ends on 127.0.0.1:PORT:
 * - the client sends a COMPOUND per op and per sample (tests/helpers/
 *   nfs4-samples.ts), encoded with encodeCompoundArgs;
 * - the server decodes each with decodeCompoundArgs, checks it got the ops
 *   the client meant, and answers with the planned results through
 *   encodeCompoundRes (READ data lent as chunks, as a server would);
 * - the client decodes the reply with decodeCompoundRes and checks it.
 * Exits 0 when every COMPOUND made the round trip; prints a summary line.
 *
 *   node dist/tests/helpers/nfs4-codec-peer.js PORT
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { LAST_FRAGMENT, RecordReader } from '../../src/rpc/record.js';
import { MsgType, readCallBody, readReplyBody, writeAcceptedHeader, writeCallHeader } from '../../src/rpc/message.js';
import { AUTH_NONE_VERF, AuthFlavor, encodeAuthSys } from '../../src/rpc/auth.js';
import type { ReplyChunk } from '../../src/rpc/program.js';
import { NFS4_PROGRAM, NFS4_VERSION, Nfs4Op as P, Nfs4Proc } from '../../src/nfs4/constants.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { decodeCompoundArgs, decodeCompoundRes, encodeCompoundArgs, encodeCompoundRes } from '../../src/nfs4/codec/compound.js';
import type { Compound4Args, Compound4Res, Nfs4ArgOp, Nfs4KnownOp, Nfs4ResOp } from '../../src/nfs4/types.js';
import { SAMPLES, fh, sess } from './nfs4-samples.js';

const lim = nfs4Limits({ maxOps: 16 });

interface Plan {
  call: Compound4Args;
  reply: Compound4Res;
}

/** The minor version an op belongs to: 4.0-only ops go in minor 0, 4.1's in 1, 4.2's in 2. */
function minorOf(op: number): number {
  if ([P.OPEN_CONFIRM, P.RENEW, P.SETCLIENTID, P.SETCLIENTID_CONFIRM, P.RELEASE_LOCKOWNER].includes(op as never)) return 0;
  return op <= P.RECLAIM_COMPLETE ? 1 : 2;
}

/**
 * Samples Wireshark 4.0 cannot dissect although their XDR is RFC 5662's:
 * its NFSv4 dissector reads ssv_prot_info4's spi_handles<> (an array of
 * gsshandle4_t) as a single opaque. We never send SP4_SSV (no SSV support).
 */
function dissectorLimit(op: number, res: unknown): boolean {
  return op === P.EXCHANGE_ID && (res as { stateProtect?: { how: number } }).stateProtect?.how === 2;
}

/** One COMPOUND per op and sample: SEQUENCE (4.1+), PUTFH, the op; the reply pairs them with results. */
export function plans(): Plan[] {
  const out: Plan[] = [];
  for (const op of Object.values(P) as Nfs4KnownOp[]) {
    const { args, res } = SAMPLES[op] as { args: unknown[]; res: { status: number }[] };
    const minor = minorOf(op);
    for (let i = 0; i < Math.max(args.length, res.length); i++) {
      const ops: Nfs4ArgOp[] = [];
      const results: Nfs4ResOp[] = [];
      if (minor > 0 && op !== P.SEQUENCE && op !== P.EXCHANGE_ID && op !== P.CREATE_SESSION) {
        ops.push({ op: P.SEQUENCE, args: { sessionid: sess, sequenceid: out.length + 1, slotid: 0, highestSlotid: 0, cachethis: false } });
        results.push({ op: P.SEQUENCE, res: { status: 0, sessionid: sess, sequenceid: out.length + 1, slotid: 0, highestSlotid: 0, targetHighestSlotid: 0, statusFlags: 0 } });
      }
      ops.push({ op: P.PUTFH, args: { object: fh } });
      results.push({ op: P.PUTFH, res: { status: 0 } });
      ops.push({ op, args: args[i % args.length] } as Nfs4ArgOp);
      const r = res[i % res.length];
      if (dissectorLimit(op, r)) continue;
      results.push({ op, res: r } as Nfs4ResOp);
      out.push({
        call: { tag: Buffer.from(`${op}:${i}`), minorversion: minor, ops },
        reply: { status: r.status as never, tag: Buffer.from(`${op}:${i}`), results },
      });
    }
  }
  return out;
}

/** Record-marked message: header writer + lent chunks, one fragment. */
function record(w: XdrWriter, chunks: readonly ReplyChunk[] | void): Buffer[] {
  const parts = [Buffer.from(w.finish()), ...((chunks ?? []) as Buffer[])];
  const len = parts.reduce((n, b) => n + b.length, 0) - 4;
  parts[0].writeUInt32BE((LAST_FRAGMENT | len) >>> 0, 0);
  return parts;
}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const all = plans();
  const byXid = new Map<number, Plan>();

  const server = net.createServer((s) => {
    const rr = new RecordReader(4 << 20, (rec) => {
      const r = new XdrReader(rec);
      const xid = r.uint32();
      assert.equal(r.uint32(), MsgType.CALL);
      const h = readCallBody(r, xid);
      assert.equal(h.prog, NFS4_PROGRAM);
      const plan = byXid.get(xid)!;
      const got = decodeCompoundArgs(r, lim);
      assert.equal(got.stop, undefined, `xid ${xid}: stopped at ${JSON.stringify(got.stop)}`);
      assert.deepEqual(got.ops, plan.call.ops, `xid ${xid}: the ops the client meant`);
      const w = new XdrWriter(512);
      w.reserve32();
      writeAcceptedHeader(w, xid, 'SUCCESS');
      for (const part of record(w, encodeCompoundRes(w, plan.reply))) s.write(part);
    });
    s.on('data', (c: Buffer) => rr.push(c));
  });
  await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));

  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((res) => sock.once('connect', res));
  const waiting = new Map<number, (rec: Buffer) => void>();
  const rr = new RecordReader(4 << 20, (rec) => waiting.get(rec.readUInt32BE(0))?.(rec));
  sock.on('data', (c: Buffer) => rr.push(c));
  const cred = { flavor: AuthFlavor.SYS, body: encodeAuthSys({ machine: 'nfs4-codec-peer', uid: 0, gid: 0, gids: [] }) };

  let ops = 0;
  let xid = 0x4e465334;
  for (const plan of all) {
    xid++;
    byXid.set(xid, plan);
    const w = new XdrWriter(512);
    w.reserve32();
    writeCallHeader(w, { xid, prog: NFS4_PROGRAM, vers: NFS4_VERSION, proc: Nfs4Proc.COMPOUND, cred, verf: AUTH_NONE_VERF });
    const parts = record(w, encodeCompoundArgs(w, plan.call));
    const reply = new Promise<Buffer>((res) => waiting.set(xid, res));
    for (const p of parts) sock.write(p);
    const rec = await reply;
    const r = new XdrReader(rec);
    r.uint32();
    assert.equal(r.uint32(), MsgType.REPLY);
    const h = readReplyBody(r, xid);
    assert.ok(h.kind === 'accepted' && h.stat === 'SUCCESS');
    assert.deepEqual(decodeCompoundRes(r, lim), plan.reply, `xid ${xid}: the reply`);
    ops += plan.call.ops.length;
  }
  sock.end();
  server.close();
  console.log(`nfs4-codec-peer: ${all.length} COMPOUNDs, ${ops} ops, every one round-tripped`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
