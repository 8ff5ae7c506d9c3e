/**
 * Wire-format validation: capture the loopback traffic between real clients
 * (libnfs tools, the Linux kernel client) and our server with tshark
 * (../shared/peers/tshark-nfs.sh: 64 MiB buffer, capture filter on our port,
 * the port force-decoded as ONC RPC), then require 0 malformed frames, 0
 * expert errors, 0 dropped packets, and the NFS/MOUNT procedures we drove.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, needCommand, startServer, type ServerProcess } from '../helpers/server-process.js';
import {
  GUEST_DIR,
  KERNEL_RUN,
  TSHARK_NFS,
  takeWholeCapture,
  decodeArgs,
  describe,
  guestSummary,
  needKernelClient,
  nfsUrl,
  privateTempDir,
  removeDir,
  runCommand,
  sha256File,
  tempDir,
  writeRandomFile,
  type CaptureReport,
  type RunResult,
} from '../helpers/peers.js';

// In CI every peer must be present (these throw there); on a laptop, skip loudly.
const skipLibnfs = needCommand('tshark') || needCommand('nfs-ls') || needCommand('nfs-cp') || needCommand('nfs-cat');
const skipKernel = needCommand('tshark') || needKernelClient();

let exp: string;
let local: string;
let state: string;
let server: ServerProcess;

before(async () => {
  if (skipLibnfs && skipKernel) return;
  exp = tempDir('nfsl-tshark-exp-');
  local = tempDir('nfsl-tshark-local-');
  state = privateTempDir('nfsl-tshark-state-');
  fs.mkdirSync(path.join(exp, 'sub'));
  fs.writeFileSync(path.join(exp, 'sub/small.txt'), 'small file for nfs-cat\n');
  // Its last READ (70,001 bytes) is spliced and needs XDR padding after the pipe's data.
  await writeRandomFile(path.join(exp, 'out.bin'), 3 * 1024 * 1024 + 70_001);
  server = await startServer({ dir: exp, stateDir: state, exportsText: `${exp} *(rw,insecure,no_root_squash)\n` });
});

after(async () => {
  if (skipLibnfs && skipKernel) return;
  const code = await server?.stop();
  removeDir(exp);
  removeDir(local);
  removeDir(state);
  assert.equal(code, 0, `server exit status:\n${server?.output()}`);
});

/** Run COMMAND under tshark-nfs.sh capturing our port into `pcap`. */
function captured(pcap: string, cmd: string[]): Promise<RunResult> {
  return runCommand(TSHARK_NFS, ['-p', String(server.port), '-w', pcap, '--', ...cmd]);
}

/** Detail of the offending frames, for the assertion message. */
async function badDetail(pcap: string, report: CaptureReport): Promise<string> {
  const frames = report.bad.slice(0, 5).map((l) => l.split('\t')[0]);
  if (frames.length === 0) return '';
  const r = await runCommand('tshark', ['-r', pcap, ...decodeArgs([server.port]), '-Y', frames.map((f) => `frame.number==${f}`).join(' || '), '-O', 'rpc,nfs,mount']);
  return r.stdout.slice(0, 20_000);
}

/** The command succeeded; 3 is tshark-nfs.sh's verdict on the capture, judged by checkCapture. */
function assertRan(r: RunResult): void {
  assert.ok(r.code === 0 || r.code === 3, describe(r, 6000));
}

/** The session's run and what Wireshark made of its capture. */
interface Session {
  r: RunResult;
  report: CaptureReport;
}

async function assertCleanCapture(t: TestContext, pcap: string, { r, report }: Session, expected: string[]): Promise<void> {
  const calls = [...report.calls.entries()].sort().map(([k, v]) => `${k}:${v}`).join(' ');
  t.diagnostic(`${report.rpcMessages} RPC messages; calls: ${calls}`);
  if (report.abandoned.length) t.diagnostic(`calls the client hung up on (last on their connection): ${report.abandoned.join(', ')}`);
  const holes = `holes in the capture: ${report.gaps.join('; ') || 'none'}`;
  assert.deepEqual(report.bad, [], `malformed or expert-error frames (${holes}):\n${report.bad.join('\n')}\n${await badDetail(pcap, report)}`);
  assert.match(r.stdout, /, 0 malformed\/error frames, 0 dropped by capture;/, describe(r, 3000));
  assert.notEqual(r.code, 3, `tshark-nfs.sh found malformed/error frames or drops\n${describe(r, 3000)}`);
  assert.ok(report.rpcMessages > 0, 'the capture decoded RPC messages');
  const missing = expected.filter((p) => !report.calls.has(p));
  assert.deepEqual(missing, [], `procedures missing from the capture (got ${calls})`);
  assert.deepEqual(report.unanswered, [], `every call in the capture got a reply (${holes})`);
}

/** Take the session (retaken once if its capture has holes and faults) and require a clean capture. */
async function checkCapture(t: TestContext, pcap: string, session: () => Promise<RunResult>, expected: string[]): Promise<void> {
  const { out: r, report } = await takeWholeCapture((m) => t.diagnostic(m), pcap, [server.port], session);
  await assertCleanCapture(t, pcap, { r, report }, expected);
}

const LIBNFS_PROCS = ['MOUNT NULL', 'MOUNT MNT', 'NFS NULL', 'NFS FSINFO', 'NFS GETATTR', 'NFS LOOKUP', 'NFS READDIRPLUS', 'NFS CREATE', 'NFS WRITE', 'NFS COMMIT', 'NFS READ'];

test('libnfs session (ls, cp in/out 3 MiB, cat): well-formed on the wire', { skip: skipLibnfs }, async (t) => {
  const pcap = path.join(local, 'libnfs.pcapng');
  const src = path.join(local, 'in.bin');
  const sum = await writeRandomFile(src, 4 * 1024 * 1024 + 777);
  const back = path.join(local, 'back.bin');
  const url = (rel = '') => nfsUrl(server.port, exp, rel);
  const script = 'set -e; nfs-ls "$1"; nfs-ls "$2"; nfs-cp "$3" "$4"; nfs-cp "$5" "$6"; nfs-cat "$7"';
  await checkCapture(t, pcap, async () => {
    const r = await captured(pcap, ['sh', '-c', script, 'sh', url(), url('sub'), src, url('in.bin'), url('out.bin'), back, url('sub/small.txt')]);
    assertRan(r);
    assert.match(r.stdout, /small file for nfs-cat/);
    assert.equal(await sha256File(path.join(exp, 'in.bin')), sum);
    assert.equal(await sha256File(back), await sha256File(path.join(exp, 'out.bin')));
    return r;
  }, LIBNFS_PROCS);
  fs.rmSync(pcap);
});

test('our client over the wire (ls, cp in/out 4 MiB + 777, cat): well-formed on the wire', { skip: needCommand('tshark') }, async (t) => {
  const pcap = path.join(local, 'ours.pcapng');
  const src = path.join(local, 'ours-in.bin');
  // The last WRITE carries 777 bytes: its data chunk is followed by 3 bytes of XDR padding.
  const sum = await writeRandomFile(src, 4 * 1024 * 1024 + 777);
  const back = path.join(local, 'ours-back.bin');
  const url = (rel = '') => `${nfsUrl(server.port, exp, rel)}&localio=0`;
  const cli = `"${process.execPath}" "${CLI}"`;
  const script = `set -e; ${cli} ls "$1"; ${cli} cp -q "$2" "$3"; ${cli} cp -q "$4" "$5"; ${cli} cat "$6"`;
  await checkCapture(t, pcap, async () => {
    const r = await captured(pcap, ['sh', '-c', script, 'sh', url('sub'), src, url('ours-in.bin'), url('out.bin'), back, url('sub/small.txt')]);
    assertRan(r);
    assert.match(r.stdout, /small file for nfs-cat/);
    assert.equal(await sha256File(path.join(exp, 'ours-in.bin')), sum);
    assert.equal(await sha256File(back), await sha256File(path.join(exp, 'out.bin')));
    return r;
  }, ['MOUNT MNT', 'NFS FSINFO', 'NFS READDIRPLUS', 'NFS WRITE', 'NFS COMMIT', 'NFS READ']);
  fs.rmSync(pcap);
});

const KERNEL_PROCS = [
  // no UMNT: the kernel leaves that to umount.nfs, and the guest has busybox umount
  'MOUNT MNT',
  'NFS NULL',
  'NFS FSINFO',
  'NFS PATHCONF',
  'NFS GETATTR',
  'NFS SETATTR',
  'NFS LOOKUP',
  'NFS ACCESS',
  'NFS READLINK',
  'NFS READ',
  'NFS WRITE',
  'NFS CREATE',
  'NFS MKDIR',
  'NFS SYMLINK',
  'NFS MKNOD',
  'NFS REMOVE',
  'NFS RMDIR',
  'NFS RENAME',
  'NFS LINK',
  'NFS READDIRPLUS',
  'NFS FSSTAT',
  'NFS COMMIT',
];

test('Linux kernel client session: well-formed on the wire', { skip: skipKernel }, async (t) => {
  const pcap = path.join(local, 'kernel.pcapng');
  await checkCapture(t, pcap, async () => {
    const r = await captured(pcap, [KERNEL_RUN, String(server.port), String(server.port), exp, path.join(GUEST_DIR, 'wire.sh')]);
    const s = guestSummary(r.stdout);
    assert.ok(s, describe(r, 6000));
    assert.deepEqual(s.failures, [], describe(r, 6000));
    assertRan(r);
    return r;
  }, KERNEL_PROCS);
  fs.rmSync(pcap);
});
