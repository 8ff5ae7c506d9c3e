/**
 * The stable client records (src/nfs4/state/stable-record.ts, stable-store.ts): the bytes round
 * trip; every cut, flipped bit, wrong version, oversized or misplaced file is a typed error and
 * never a wrong record; the directory store writes crash-safely, removes, batches, reads back
 * within its bounds, cleans up after a write cut off and sets aside what it cannot read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { MAX_OWNER, MAX_PRINCIPAL, MAX_RECORD_BYTES, RecordError, decodeRecord, encodeRecord, type StableClient } from '../../src/nfs4/state/stable-record.js';
import { ClientRecordStore, RECORDS_DIR, recordName } from '../../src/nfs4/state/stable-store.js';

const rec = (owner: string, o: Partial<StableClient> = {}): StableClient => ({
  ownerId: Buffer.from(owner),
  verifier: Buffer.alloc(8, 7),
  principal: 'sys:0',
  since: 1_700_000_000_000,
  revoked: false,
  ...o,
});

const arbRecord = fc.record({
  ownerId: fc.uint8Array({ minLength: 1, maxLength: MAX_OWNER }).map((u) => Buffer.from(u)),
  verifier: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((u) => Buffer.from(u)),
  principal: fc.string({ maxLength: 40 }),
  since: fc.integer({ min: 0, max: 2 ** 48 }),
  revoked: fc.boolean(),
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RecordError, `a RecordError, not ${String(e)}`);
    return e.code;
  }
  return 'decoded';
}

async function withState(fn: (state: string) => Promise<void>): Promise<void> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nfsl-records-'));
  try {
    await fn(state);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

test('a record round-trips; it is never larger than MAX_RECORD_BYTES', () => {
  fc.assert(
    fc.property(arbRecord, (r) => {
      const b = encodeRecord(r);
      assert.ok(b.length <= MAX_RECORD_BYTES);
      const d = decodeRecord(b);
      assert.deepEqual(d, { ...r, ownerId: Buffer.from(r.ownerId), verifier: Buffer.from(r.verifier) });
    }),
  );
  const biggest = encodeRecord(rec('o'.repeat(MAX_OWNER), { principal: 'p'.repeat(MAX_PRINCIPAL) }));
  assert.ok(biggest.length <= MAX_RECORD_BYTES, `${biggest.length}`);
  assert.throws(() => encodeRecord(rec('o'.repeat(MAX_OWNER + 1))), RangeError);
  assert.throws(() => encodeRecord(rec('')), RangeError);
});

test('a cut record is NFS4_RECORD_TORN at every length; a flipped bit anywhere is an error, never another record', () => {
  const b = encodeRecord(rec('Linux NFSv4.1 kvmnfs-guest', { revoked: true }));
  for (let n = 0; n < b.length; n++) {
    const code = codeOf(() => decodeRecord(b.subarray(0, n)));
    assert.ok(code === 'NFS4_RECORD_TORN' || (n < 12 && code === 'NFS4_RECORD_CORRUPT'), `${n} bytes: ${code}`);
  }
  for (let i = 0; i < b.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const x = Buffer.from(b);
      x[i] ^= 1 << bit;
      const code = codeOf(() => decodeRecord(x));
      assert.notEqual(code, 'decoded', `byte ${i} bit ${bit} went unnoticed`);
    }
  }
});

test('other versions, trailing bytes, empty owners, unknown flags and oversized input are typed errors', () => {
  const b = encodeRecord(rec('x'));
  const v2 = Buffer.from(b);
  v2.writeUInt32BE(2, 8);
  assert.equal(codeOf(() => decodeRecord(v2)), 'NFS4_RECORD_VERSION');
  assert.equal(codeOf(() => decodeRecord(Buffer.concat([b, Buffer.alloc(4)]))), 'NFS4_RECORD_CORRUPT');
  assert.equal(codeOf(() => decodeRecord(Buffer.alloc(MAX_RECORD_BYTES + 1))), 'NFS4_RECORD_OVERSIZED');
  // A length field claiming far more than is there: refused before anything is allocated.
  const long = Buffer.from(b);
  long.writeUInt32BE(0x7fffffff, 32);
  assert.equal(codeOf(() => decodeRecord(long)), 'NFS4_RECORD_CORRUPT');
  const flags = Buffer.from(b);
  flags.writeUInt32BE(6, 12);
  assert.equal(codeOf(() => decodeRecord(flags)), 'NFS4_RECORD_CORRUPT');
});

test('the store writes, reads back, replaces and removes records; a batch of 200 concurrent writes and removals lands whole', () =>
  withState(async (state) => {
    const { store, loaded } = await ClientRecordStore.open(state);
    assert.deepEqual(loaded, { records: [], problems: [], skipped: 0 });
    assert.equal(store.idle(), undefined, 'nothing outstanding');
    await store.write(rec('a'));
    await store.write(rec('b', { revoked: true }));
    await store.write(rec('a', { verifier: Buffer.alloc(8, 9) }));
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? store.write(rec(`c${i}`)) : store.remove(Buffer.from(`c${i - 1}`)))));
    await Promise.all([store.write(rec('gone')), store.remove(Buffer.from('gone'))]);
    assert.equal(store.idle(), undefined);
    const dir = path.join(state, RECORDS_DIR);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    for (const n of fs.readdirSync(dir)) assert.equal(fs.statSync(path.join(dir, n)).mode & 0o777, 0o600);
    const again = await ClientRecordStore.open(state);
    const byOwner = new Map(again.loaded.records.map((r) => [r.ownerId.toString(), r]));
    assert.equal(again.loaded.problems.length, 0);
    assert.equal(byOwner.get('a')!.verifier.toString('hex'), '09'.repeat(8), 'the later write won');
    assert.equal(byOwner.get('b')!.revoked, true);
    assert.equal(byOwner.has('gone'), false);
    // Each c(odd) was written, then removed by the next request, in the order asked; only c199 stays.
    for (let i = 1; i < 199; i += 2) assert.equal(byOwner.has(`c${i}`), false, `c${i}`);
    assert.ok(byOwner.has('c199'));
    assert.equal(again.store.stats.records, byOwner.size);
    await again.store.remove(Buffer.from('a'));
    assert.equal(again.store.has(Buffer.from('a')), false);
    assert.equal(fs.existsSync(path.join(dir, recordName(Buffer.from('a')))), false);
  }));

test('reading back: a write cut off, a torn, corrupt, oversized, misplaced or non-regular file is reported and set aside; the rest load', () =>
  withState(async (state) => {
    const { store } = await ClientRecordStore.open(state);
    await store.write(rec('good'));
    await store.write(rec('torn'));
    await store.write(rec('flipped'));
    const dir = path.join(state, RECORDS_DIR);
    const file = (o: string) => path.join(dir, recordName(Buffer.from(o)));
    // A crash between the temporary file and its rename.
    fs.writeFileSync(path.join(dir, `.tmp-${recordName(Buffer.from('new'))}-1-abcd`), encodeRecord(rec('new')).subarray(0, 9));
    fs.truncateSync(file('torn'), 20);
    const f = fs.readFileSync(file('flipped'));
    f[30] ^= 0x40;
    fs.writeFileSync(file('flipped'), f);
    // A huge file is refused from its size, unread (sparse: it costs no disk).
    fs.writeFileSync(file('huge'), '');
    fs.truncateSync(file('huge'), 1 << 30);
    // A record under another owner's name.
    fs.copyFileSync(file('good'), file('elsewhere'));
    fs.mkdirSync(file('adir'));
    fs.symlinkSync(file('good'), file('alink'));
    fs.writeFileSync(path.join(dir, 'README'), 'not a record name: ignored');
    const { loaded } = await ClientRecordStore.open(state);
    assert.deepEqual(loaded.records.map((r) => r.ownerId.toString()), ['good']);
    const codes = Object.fromEntries(loaded.problems.map((p) => [p.file.startsWith('.tmp-') ? 'tmp' : p.file, p.code]));
    assert.equal(codes.tmp, 'NFS4_RECORD_TORN');
    assert.equal(codes[recordName(Buffer.from('torn'))], 'NFS4_RECORD_TORN');
    assert.equal(codes[recordName(Buffer.from('flipped'))], 'NFS4_RECORD_CORRUPT');
    assert.equal(codes[recordName(Buffer.from('huge'))], 'NFS4_RECORD_OVERSIZED');
    assert.equal(codes[recordName(Buffer.from('elsewhere'))], 'NFS4_RECORD_MISPLACED');
    assert.equal(codes[recordName(Buffer.from('adir'))], 'NFS4_RECORD_CORRUPT', 'not a regular file');
    assert.equal(codes[recordName(Buffer.from('alink'))], 'ELOOP');
    assert.equal(loaded.problems.length, 7);
    const left = fs.readdirSync(dir).sort();
    assert.ok(!left.some((n) => n.startsWith('.tmp-')), 'the cut-off write is cleaned up');
    for (const o of ['torn', 'flipped', 'huge', 'elsewhere']) assert.ok(left.includes(`${recordName(Buffer.from(o))}.bad`), `${o} kept aside as .bad`);
    // Set aside once: the next start reads only the good one, with nothing to report.
    const third = await ClientRecordStore.open(state);
    assert.deepEqual(third.loaded.records.map((r) => r.ownerId.toString()), ['good']);
    assert.deepEqual(third.loaded.problems, []);
  }));

test('reading back is bounded: past maxRecords files are left unread and counted', () =>
  withState(async (state) => {
    const { store } = await ClientRecordStore.open(state);
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.write(rec(`r${i}`))));
    const { loaded } = await ClientRecordStore.open(state, { maxRecords: 10 });
    assert.equal(loaded.records.length, 10);
    assert.equal(loaded.skipped, 20);
  }));

test('a write that cannot reach the disk rejects its caller and is counted; the store goes on', () =>
  withState(async (state) => {
    const { store } = await ClientRecordStore.open(state);
    fs.rmSync(path.join(state, RECORDS_DIR), { recursive: true });
    await assert.rejects(store.write(rec('lost')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.equal(store.stats.failures, 1);
    fs.mkdirSync(path.join(state, RECORDS_DIR));
    await store.write(rec('later'));
    assert.equal(store.stats.written, 1);
  }));
