/**
 * Real NFSv4 traffic through the codec: captures of libnfs (v4.0) and of a
 * 4.1 / 4.2 session against nfs-ganesha 4.3 (tests/fixtures/nfs4/, made
 * with tests/helpers/pcap-rpc.ts). Every call must decode with the server's
 * decoder and every reply with the client's, consuming every byte, and
 * encoding what was decoded must give back the very bytes on the wire —
 * golden bytes from other implementations, which symmetric round trips of
 * our own encoder and decoder cannot prove.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { MsgType, readCallBody, readReplyBody } from '../../src/rpc/message.js';
import { Nfs4Stat, OP_ILLEGAL, nfs4OpName } from '../../src/nfs4/constants.js';
import { Nfs4CodecError } from '../../src/nfs4/codec/errors.js';
import { nfs4Limits } from '../../src/nfs4/codec/limits.js';
import { decodeCompoundArgs, decodeCompoundRes, encodeCompoundArgs, encodeCompoundRes } from '../../src/nfs4/codec/compound.js';
import { joined } from '../helpers/nfs4-wire.js';

const DIR = new URL('../../../tests/fixtures/nfs4/', import.meta.url);
const lim = nfs4Limits({ maxOps: 64 });

interface Fixture {
  source: string;
  records: { from: 'client' | 'server'; hex: string }[];
}

for (const name of fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
  test(`fixture ${name}: every call and reply decodes, and re-encodes to the same bytes`, (t) => {
    const fx = JSON.parse(fs.readFileSync(new URL(name, DIR), 'utf8')) as Fixture;
    t.diagnostic(fx.source);
    const seen = new Map<string, number>();
    let calls = 0;
    let replies = 0;
    for (const [i, rec] of fx.records.entries()) {
      const b = Buffer.from(rec.hex, 'hex');
      const r = new XdrReader(b);
      const xid = r.uint32();
      const type = r.uint32();
      if (rec.from === 'client') {
        assert.equal(type, MsgType.CALL);
        readCallBody(r, xid);
        const at = r.offset;
        const d = decodeCompoundArgs(r, lim);
        assert.equal(d.truncated, false);
        for (const o of d.ops) seen.set(`call ${nfs4OpName(o.op)}`, (seen.get(`call ${nfs4OpName(o.op)}`) ?? 0) + 1);
        if (d.stop) {
          // The capture's one illegal op, sent on purpose: the ops before it decode, and nothing else is left.
          assert.ok(d.stop.illegal, `record ${i}: ${JSON.stringify(d.stop)}`);
          assert.equal(d.stop.index, d.opCount - 1);
          assert.equal(r.remaining, 0);
          continue;
        }
        assert.equal(d.ops.length, d.opCount);
        assert.equal(r.remaining, 0, `record ${i}: call fully consumed`);
        const w = new XdrWriter();
        assert.deepEqual(joined(w, encodeCompoundArgs(w, d)), b.subarray(at), `record ${i}: the call re-encodes byte for byte`);
        calls++;
      } else {
        assert.equal(type, MsgType.REPLY);
        const h = readReplyBody(r, xid);
        assert.ok(h.kind === 'accepted' && h.stat === 'SUCCESS');
        const at = r.offset;
        const res = decodeCompoundRes(r, lim);
        assert.equal(r.remaining, 0, `record ${i}: reply fully consumed`);
        for (const o of res.results) {
          const k = `reply ${o.op === OP_ILLEGAL ? 'ILLEGAL' : nfs4OpName(o.op)}${o.res.status ? ` (${o.res.status})` : ''}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
        const w = new XdrWriter();
        assert.deepEqual(joined(w, encodeCompoundRes(w, res)), b.subarray(at), `record ${i}: the reply re-encodes byte for byte`);
        replies++;
      }
    }
    t.diagnostic(`${calls} calls, ${replies} replies: ${[...seen].map(([k, v]) => `${k}×${v}`).join(', ')}`);
    assert.ok(calls > 0 && replies > 0);
  });
}

test('fixtures cut at every byte offset: calls stop with BADXDR or throw typed, replies throw typed — never a crash', () => {
  let cuts = 0;
  for (const name of fs.readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const fx = JSON.parse(fs.readFileSync(new URL(name, DIR), 'utf8')) as Fixture;
    for (const rec of fx.records) {
      const b = Buffer.from(rec.hex, 'hex');
      const head = new XdrReader(b);
      const xid = head.uint32();
      head.uint32();
      if (rec.from === 'client') readCallBody(head, xid);
      else readReplyBody(head, xid);
      const body = b.subarray(head.offset);
      for (let n = 0; n < body.length; n++) {
        const cut = new XdrReader(body.subarray(0, n));
        cuts++;
        try {
          if (rec.from === 'server') {
            decodeCompoundRes(cut, lim);
            assert.fail(`${name}: a reply cut at ${n} decoded`);
          }
          const d = decodeCompoundArgs(cut, lim);
          if (d.stop?.illegal) continue; // the capture's illegal op, cut after its number
          assert.ok(d.stop, `${name}: a call cut at ${n} decoded whole`);
          assert.equal(d.stop.status, Nfs4Stat.BADXDR, `${name}: call cut at ${n}`);
        } catch (e) {
          if (!(e instanceof Nfs4CodecError)) throw e;
        }
      }
    }
  }
  assert.ok(cuts > 10_000);
});
