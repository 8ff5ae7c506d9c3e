/**
 * What the kernel-client interop tests share: a server process exporting a fresh directory, and
 * the check of a guest script's PASS/FAIL lines (each one a subtest, so a failure names the check).
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, type ServerProcess } from './server-process.js';
import { GUEST_DIR, describe, guestSummary, privateTempDir, removeDir, tempDir, type RunResult } from './peers.js';

/**
 * A directory holding nfs4tool (tests/guest/nfs4tool.c) built static — the guest has only busybox —
 * to hand to the guest as /kvmnfs/files/ (`files`). The caller removes it.
 */
export function buildGuestTool(): string {
  const dir = tempDir('nfsl-nfs4tool-');
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(dir, 'nfs4tool'), path.join(GUEST_DIR, 'nfs4tool.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcc -static nfs4tool.c:\n${r.stderr}`);
  return dir;
}

export interface Fixture {
  exp: string;
  state: string;
  server: ServerProcess;
}

/** Export a fresh temp dir with `opts`, prepare it, run `fn`, stop the server (expecting a clean exit) and clean up. */
export async function withExport(opts: string, prepare: (exp: string) => void, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const exp = tempDir('nfsl-kc-exp-');
  const state = privateTempDir('nfsl-kc-state-');
  let server: ServerProcess | undefined;
  try {
    prepare(exp);
    server = await startServer({ dir: exp, stateDir: state, exportsText: `${exp} *(${opts})\n` });
    await fn({ exp, state, server });
    const code = await server.stop();
    assert.equal(code, 0, `server should exit 0 on SIGTERM:\n${server.output()}`);
  } finally {
    await server?.kill9();
    removeDir(exp);
    removeDir(state);
  }
}

/**
 * Report every PASS/FAIL line of the guest script as a subtest (so a failure
 * names the exact check), then assert the script ran to completion with 0
 * failures (and optionally an exact pass count).
 */
export async function assertGuest(t: TestContext, r: RunResult, server: ServerProcess, passed?: number): Promise<void> {
  const wall = /wall=([\d.]+s)/.exec(r.stderr)?.[1] ?? '?';
  const ctx = () => `${describe(r, 6000)}\n--- server output\n${server.output().slice(-4000)}`;
  assert.notEqual(r.code, 97, `the guest could not mount the export\n${ctx()}`);
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(PASS|FAIL) (.*)$/.exec(lines[i]);
    if (!m) continue;
    // lines after a check up to the next one carry its details (e.g. "   (rc=1: ...)")
    let j = i + 1;
    while (j < lines.length && !/^(PASS|FAIL) |^\d+ passed, \d+ failed$/.test(lines[j])) j++;
    const detail = lines.slice(i + 1, j).join('\n');
    await t.test(`guest: ${m[2]}`, () => {
      if (m[1] === 'FAIL') assert.fail(`guest check failed: ${m[2]}${detail ? '\n' + detail : ''}\n--- server output\n${server.output().slice(-2000)}`);
    });
  }
  const s = guestSummary(r.stdout);
  assert.ok(s, `no "N passed, N failed" line from the guest\n${ctx()}`);
  t.diagnostic(`${s.passed} passed, ${s.failed} failed; guest wall ${wall}`);
  const procs = lines.find((l) => /^NULL:\d+/.test(l));
  if (procs) t.diagnostic(`NFSv3 calls: ${procs}`);
  const warnings = server.output().split('\n').filter((l) => /^\S+ (warn|error) /.test(l));
  if (warnings.length) t.diagnostic(`server logged ${warnings.length} warning/error line(s), first: ${warnings.slice(0, 3).join(' | ')}`);
  assert.deepEqual(s.failures, [], `guest checks failed\n${ctx()}`);
  assert.equal(s.failed, 0, ctx());
  if (passed !== undefined) assert.equal(s.passed, passed, ctx());
  assert.equal(r.code, 0, ctx());
}


function many2000(i: number): string {
  const special = ['with space', '-dash', '.hidden', '#hash', 'UPPER', 'a:b=c', 'x'.repeat(255), 'q?', "it's", 'semi;colon'];
  return i < special.length ? special[i] : `m${i}_${'y'.repeat((i * 37) % 200)}`;
}

/** What semantics.sh expects the host to have made: many2000/ (2,000 odd names) and their sorted list. */
export function prepareSemantics(exp: string): void {
  const dir = path.join(exp, 'many2000');
  fs.mkdirSync(dir);
  const names = Array.from({ length: 2000 }, (_, i) => many2000(i));
  for (const n of names) fs.writeFileSync(path.join(dir, n), '');
  // byte order, as `LC_ALL=C sort` in the guest (all names are ASCII)
  fs.writeFileSync(path.join(exp, 'many2000.expected'), names.sort().join('\n') + '\n');
}

/** What root-squash.sh expects: the export 0777, a 0600 and a 0644 file and a 0755 directory of root's. */
export function prepareRootSquash(exp: string): void {
  fs.chmodSync(exp, 0o777);
  fs.writeFileSync(path.join(exp, 'secret'), 'root only\n', { mode: 0o600 });
  fs.writeFileSync(path.join(exp, 'public.txt'), 'for everyone\n', { mode: 0o644 });
  fs.mkdirSync(path.join(exp, 'rootdir'), { mode: 0o755 });
}

/** The host's view after root-squash.sh: squashed root's objects are 65534's, uid 1000 and 1001 their own. */
export function checkRootSquash(exp: string): void {
  const own = (n: string) => {
    const s = fs.lstatSync(path.join(exp, n));
    return `${s.uid}:${s.gid}`;
  };
  assert.equal(own('r.txt'), '65534:65534');
  assert.equal(own('rd'), '65534:65534');
  assert.equal(own('u.txt'), '1000:1000');
  assert.equal(own('v.txt'), '1001:1001');
  assert.equal(fs.readFileSync(path.join(exp, 'public.txt'), 'utf8'), 'for everyone\n');
  assert.equal(fs.statSync(path.join(exp, 'secret')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.join(exp, 'rootdir')), []);
}
