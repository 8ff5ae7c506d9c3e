/**
 * Wire-format validation over NFSv4: the Linux kernel client's NFSv4.1 session (6.1, wire.sh)
 * and NFSv4.2 session (6.12, nfs4.sh: locks, SEEK, ALLOCATE, DEALLOCATE, COPY, READ_PLUS,
 * xattrs) against our server, captured with tshark (../shared/peers/tshark-nfs.sh); Wireshark
 * must decode every frame (0 malformed, 0 expert errors, 0 dropped) and see the operations driven.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { needCommand, startServer, type ServerProcess } from '../helpers/server-process.js';
import {
  GUEST_DIR, KERNEL_RUN, TSHARK_NFS, decodeArgs, describe, guestSummary, needKernelClient, privateTempDir, removeDir, runCommand,
  takeWholeCapture, tempDir, type RunResult,
} from '../helpers/peers.js';

const skip = needCommand('tshark') || needCommand('gcc') || needKernelClient();

let exp: string;
let local: string;
let state: string;
let server: ServerProcess;

before(async () => {
  if (skip) return;
  exp = tempDir('nfsl-tshark4-exp-');
  local = tempDir('nfsl-tshark4-local-');
  state = privateTempDir('nfsl-tshark4-state-');
  fs.mkdirSync(path.join(local, 'files'));
  const r = spawnSync('gcc', ['-static', '-O2', '-o', path.join(local, 'files/nfs4tool'), path.join(GUEST_DIR, 'nfs4tool.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  server = await startServer({ dir: exp, stateDir: state, exportsText: `${exp} *(rw,insecure,no_root_squash)\n` });
});

after(async () => {
  if (skip) return;
  const code = await server?.stop();
  removeDir(exp);
  removeDir(local);
  removeDir(state);
  assert.equal(code, 0, `server exit status:\n${server?.output()}`);
});

/** The NFSv4 operations of the calls in a capture, counted. */
async function v4ops(pcap: string): Promise<Map<string, number>> {
  const r = await runCommand('tshark', ['-r', pcap, ...decodeArgs([server.port]), '-Y', 'rpc.msgtyp == 0 && nfs', '-T', 'fields', '-e', 'nfs.opcode']);
  assert.equal(r.code, 0, describe(r));
  const m = new Map<string, number>();
  for (const line of r.stdout.split('\n')) for (const op of line.split(',').filter(Boolean)) m.set(op, (m.get(op) ?? 0) + 1);
  return m;
}

async function kernelSession(t: TestContext, name: string, env: Record<string, string>, script: string, expected: number[]): Promise<void> {
  const pcap = path.join(local, `${name}.pcapng`);
  const run = (): Promise<RunResult> =>
    runCommand(TSHARK_NFS, ['-p', String(server.port), '-w', pcap, '--', KERNEL_RUN, String(server.port), String(server.port), exp, script], { env });
  const { out: r, report } = await takeWholeCapture((m) => t.diagnostic(m), pcap, [server.port], async () => {
    const r = await run();
    const s = guestSummary(r.stdout);
    assert.ok(s, describe(r, 6000));
    assert.deepEqual(s.failures, [], describe(r, 6000));
    assert.ok(r.code === 0 || r.code === 3, describe(r, 6000));
    return r;
  });
  assert.deepEqual(report.bad, [], `malformed or expert-error frames:\n${report.bad.join('\n')}`);
  assert.match(r.stdout, /, 0 malformed\/error frames, 0 dropped by capture;/, describe(r, 3000));
  assert.deepEqual(report.unanswered, [], 'every call in the capture got a reply');
  const ops = await v4ops(pcap);
  t.diagnostic(`${report.rpcMessages} RPC messages; NFSv4 operations: ${[...ops].sort((a, b) => Number(a[0]) - Number(b[0])).map(([k, v]) => `${k}:${v}`).join(' ')}`);
  const missing = expected.filter((op) => !ops.has(String(op)));
  assert.deepEqual(missing, [], 'operations missing from the capture');
  fs.rmSync(pcap);
}

// EXCHANGE_ID, CREATE_SESSION, SEQUENCE, PUTROOTFH, LOOKUP, GETATTR, ACCESS, OPEN, CLOSE, WRITE, READ, COMMIT, SETATTR, CREATE, REMOVE, RENAME, LINK, READLINK, READDIR, RECLAIM_COMPLETE
const V41 = [42, 43, 53, 24, 15, 9, 3, 18, 4, 38, 25, 5, 34, 6, 28, 29, 11, 27, 26, 58];
// ... and LOCK, LOCKT, LOCKU, SEEK, ALLOCATE, DEALLOCATE, COPY, READ_PLUS, GETXATTR, SETXATTR, LISTXATTRS, REMOVEXATTR
const V42 = [42, 43, 53, 18, 4, 38, 12, 13, 14, 69, 59, 62, 60, 68, 72, 73, 74, 75];

test('Linux 6.1 NFSv4.1 session (wire.sh): well-formed on the wire', { skip }, async (t) => {
  await kernelSession(t, 'v41', { NFS_VERS: '4.1' }, path.join(GUEST_DIR, 'wire.sh'), V41);
});

test('Linux 6.12 NFSv4.2 session (nfs4.sh: locks, SEEK, fallocate, COPY, READ_PLUS, xattrs): well-formed on the wire', { skip }, async (t) => {
  await kernelSession(t, 'v42', { NFS_VERS: '4.2', KVMNFS_KERNEL: '6.12', KVMNFS_FILES: path.join(local, 'files') }, path.join(GUEST_DIR, 'nfs4.sh'), V42);
});
