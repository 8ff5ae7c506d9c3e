/**
 * The built-in portmapper on the server's own port (RFC 1833): PMAP v2
 * GETPORT/DUMP/SET and rpcbind v3/v4 GETADDR/DUMP. Port 111 mode (--portmap)
 * is not tested here: binding it needs root and may clash with a system rpcbind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { RpcClient } from '../../src/rpc/client.js';
import type { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { NFS3_PROGRAM, NFS3_VERSION, MOUNT_PROGRAM, MOUNT_V3 } from '../helpers/nfs-raw.js';

/** A hang detector only (a hung test fails instead of blocking the run); nothing here asserts speed. */
const WATCHDOG = { timeout: 120_000 };

const PMAP = 100000;
const TCP = 6;
const UDP = 17;
const PmapProc = { NULL: 0, SET: 1, UNSET: 2, GETPORT: 3, DUMP: 4 } as const;
const RpcbProc = { NULL: 0, SET: 1, UNSET: 2, GETADDR: 3, DUMP: 4 } as const;

let tmp: string;
let srv: ServerProcess;
let rpc: RpcClient;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-portmap-'));
  fs.mkdirSync(path.join(tmp, 'export'));
  srv = await startServer({ dir: path.join(tmp, 'export'), stateDir: path.join(tmp, 'state') });
  rpc = await RpcClient.connect(srv.port);
});

after(async () => {
  await rpc?.close();
  await srv?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const mapping = (prog: number, vers: number, prot: number, port = 0) => (w: XdrWriter) => void w.uint32(prog).uint32(vers).uint32(prot).uint32(port);
const rpcb = (prog: number, vers: number, netid: string, addr = '', owner = '') => (w: XdrWriter) =>
  void w.uint32(prog).uint32(vers).string(netid).string(addr).string(owner);

async function getport(prog: number, vers: number, prot: number): Promise<number> {
  const { reader } = await rpc.call(PMAP, 2, PmapProc.GETPORT, mapping(prog, vers, prot));
  const port = reader.uint32();
  reader.expectEnd();
  return port;
}

async function getaddr(rpcbVers: 3 | 4, prog: number, vers: number, netid: string): Promise<string> {
  const { reader } = await rpc.call(PMAP, rpcbVers, RpcbProc.GETADDR, rpcb(prog, vers, netid));
  const s = reader.string(128);
  reader.expectEnd();
  return s;
}

function universal(port: number): string {
  return `127.0.0.1.${port >> 8}.${port & 255}`;
}

test('PMAP v2 NULL answers', WATCHDOG, async () => {
  const { reader } = await rpc.call(PMAP, 2, PmapProc.NULL);
  reader.expectEnd();
});

test('PMAP v2 GETPORT: NFS v3 and MOUNT v3 over TCP are on the server port', WATCHDOG, async () => {
  assert.equal(await getport(NFS3_PROGRAM, NFS3_VERSION, TCP), srv.port);
  assert.equal(await getport(MOUNT_PROGRAM, MOUNT_V3, TCP), srv.port);
  assert.equal(await getport(PMAP, 2, TCP), srv.port);
  assert.equal(await getport(NFS3_PROGRAM, 4, TCP), srv.port, 'NFSv4 on the same port');
});

test('PMAP v2 GETPORT: UDP, unknown programs and unserved versions answer 0', WATCHDOG, async () => {
  assert.equal(await getport(NFS3_PROGRAM, NFS3_VERSION, UDP), 0);
  assert.equal(await getport(MOUNT_PROGRAM, MOUNT_V3, UDP), 0);
  assert.equal(await getport(NFS3_PROGRAM, 2, TCP), 0);
  assert.equal(await getport(NFS3_PROGRAM, 5, TCP), 0);
  assert.equal(await getport(MOUNT_PROGRAM, 1, TCP), 0);
  assert.equal(await getport(100021 /* NLM */, 4, TCP), 0);
  assert.equal(await getport(123456, 1, TCP), 0);
  assert.equal(await getport(NFS3_PROGRAM, NFS3_VERSION, 99), 0);
});

test('PMAP v2 DUMP lists NFS v3 and MOUNT v3 (TCP, server port) and nothing on UDP', WATCHDOG, async () => {
  const { reader } = await rpc.call(PMAP, 2, PmapProc.DUMP);
  const list: Array<{ prog: number; vers: number; prot: number; port: number }> = [];
  for (let i = 0; i < 1000 && reader.bool(); i++) {
    list.push({ prog: reader.uint32(), vers: reader.uint32(), prot: reader.uint32(), port: reader.uint32() });
  }
  reader.expectEnd();
  const has = (prog: number, vers: number) => list.some((m) => m.prog === prog && m.vers === vers && m.prot === TCP && m.port === srv.port);
  assert.ok(has(NFS3_PROGRAM, NFS3_VERSION), `NFS v3 missing from ${JSON.stringify(list)}`);
  assert.ok(has(MOUNT_PROGRAM, MOUNT_V3), `MOUNT v3 missing from ${JSON.stringify(list)}`);
  assert.ok(has(PMAP, 2), 'portmapper v2 itself');
  assert.ok(list.every((m) => m.prot === TCP), 'no UDP mappings are advertised');
  assert.ok(list.every((m) => m.port === srv.port), 'every mapping is on the one port');
});

test('PMAP v2 SET/UNSET are refused and change nothing', WATCHDOG, async () => {
  for (const proc of [PmapProc.SET, PmapProc.UNSET]) {
    const { reader } = await rpc.call(PMAP, 2, proc, mapping(NFS3_PROGRAM, NFS3_VERSION, TCP, 1));
    assert.equal(reader.bool(), false);
  }
  const { reader } = await rpc.call(PMAP, 2, PmapProc.SET, mapping(200000, 1, TCP, 1234));
  assert.equal(reader.bool(), false);
  assert.equal(await getport(NFS3_PROGRAM, NFS3_VERSION, TCP), srv.port);
  assert.equal(await getport(200000, 1, TCP), 0);
});

test('rpcbind v4 and v3 GETADDR: universal address "127.0.0.1.p1.p2" for netid tcp', WATCHDOG, async () => {
  const want = universal(srv.port);
  for (const v of [4, 3] as const) {
    assert.equal(await getaddr(v, NFS3_PROGRAM, NFS3_VERSION, 'tcp'), want, `rpcbind v${v} NFS`);
    assert.equal(await getaddr(v, MOUNT_PROGRAM, MOUNT_V3, 'tcp'), want, `rpcbind v${v} MOUNT`);
    // Not served: the empty string.
    assert.equal(await getaddr(v, NFS3_PROGRAM, NFS3_VERSION, 'udp'), '', `rpcbind v${v} udp`);
    assert.equal(await getaddr(v, 123456, 1, 'tcp'), '', `rpcbind v${v} unknown program`);
    assert.equal(await getaddr(v, NFS3_PROGRAM, 4, 'tcp'), want, `rpcbind v${v} NFS v4`);
    assert.equal(await getaddr(v, NFS3_PROGRAM, 2, 'tcp'), '', `rpcbind v${v} NFS v2`);
  }
  // The universal address decodes back to the port.
  const parts = want.split('.').map(Number);
  assert.equal(parts.length, 6);
  assert.equal(parts[4]! * 256 + parts[5]!, srv.port);
});

test('rpcbind v4 DUMP lists NFS v3 and MOUNT v3 with netid tcp and the universal address', WATCHDOG, async () => {
  const { reader } = await rpc.call(PMAP, 4, RpcbProc.DUMP);
  const list: Array<{ prog: number; vers: number; netid: string; addr: string; owner: string }> = [];
  const str = (r: XdrReader) => r.string(256);
  for (let i = 0; i < 1000 && reader.bool(); i++) {
    list.push({ prog: reader.uint32(), vers: reader.uint32(), netid: str(reader), addr: str(reader), owner: str(reader) });
  }
  reader.expectEnd();
  const want = universal(srv.port);
  for (const [prog, vers] of [[NFS3_PROGRAM, NFS3_VERSION], [MOUNT_PROGRAM, MOUNT_V3]] as const) {
    assert.ok(
      list.some((e) => e.prog === prog && e.vers === vers && e.netid === 'tcp' && e.addr === want),
      `${prog} v${vers} missing from ${JSON.stringify(list)}`,
    );
  }
});

test('the portmapper shares the port with NFS and MOUNT on one connection', WATCHDOG, async () => {
  // NFS NULL and MOUNT NULL on the same connection as the portmapper calls above.
  (await rpc.call(NFS3_PROGRAM, NFS3_VERSION, 0)).reader.expectEnd();
  (await rpc.call(MOUNT_PROGRAM, MOUNT_V3, 0)).reader.expectEnd();
  assert.equal(await getport(NFS3_PROGRAM, NFS3_VERSION, TCP), srv.port);
});
