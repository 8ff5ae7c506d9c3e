/**
 * The stable client records on disk: one file per client in <stateDir>/nfs4-clients/, named by
 * the SHA-256 of its owner (stable-record.ts has the bytes). Crash-safe as the handle key is:
 * a record is written to a temporary file, fsync'd, renamed over its name, and the directory
 * fsync'd; a removal is an unlink and a directory fsync. A crash leaves the old record or the new
 * one, never a mix; a temporary file left by a crash is removed at the next start.
 *
 * Writes and removals queue and go in batches (one directory fsync for all of them), the last
 * request for a name winning; each caller's promise settles when its request is on disk. Reading
 * back is bounded: at most `maxRecords` files, each at most MAX_RECORD_BYTES (checked with fstat
 * before reading); a file that is not a whole, intact record of its name is set aside as
 * `<name>.bad` (kept for the administrator, never read again) and reported, and the server goes on.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs, { constants as fsc } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAX_RECORD_BYTES, RecordError, decodeRecord, encodeRecord, type StableClient } from './stable-record.js';

export const RECORDS_DIR = 'nfs4-clients';
const NAME = /^[0-9a-f]{64}$/;
const TMP_PREFIX = '.tmp-';

/** A file that could not be read back as a record. */
export interface RecordProblem {
  file: string;
  code: string;
  message: string;
}

export interface LoadedRecords {
  records: StableClient[];
  problems: RecordProblem[];
  /** Files left unread because there were more than `maxRecords`. */
  skipped: number;
}

export interface RecordStoreStats {
  /** Records on disk now (as far as this process wrote and removed them). */
  records: number;
  written: number;
  removed: number;
  failures: number;
}

type Op = { kind: 'write'; bytes: Buffer } | { kind: 'remove' };
interface Pending {
  op: Op;
  waiters: Array<{ resolve(): void; reject(e: unknown): void }>;
}

/** The file name of an owner's record. */
export function recordName(ownerId: Buffer): string {
  return createHash('sha256').update(ownerId).digest('hex');
}

export class ClientRecordStore {
  readonly stats: RecordStoreStats = { records: 0, written: 0, removed: 0, failures: 0 };
  private next = new Map<string, Pending>();
  private running?: Promise<void>;
  private readonly onDisk = new Set<string>();

  private constructor(readonly dir: string) {}

  /** Open (making it when missing) the records directory under `stateDir` and read back what is there. */
  static async open(stateDir: string, o: { maxRecords?: number } = {}): Promise<{ store: ClientRecordStore; loaded: LoadedRecords }> {
    const dir = path.join(stateDir, RECORDS_DIR);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new ClientRecordStore(dir);
    const loaded = await store.load(o.maxRecords ?? 8192);
    return { store, loaded };
  }

  private async load(maxRecords: number): Promise<LoadedRecords> {
    const out: LoadedRecords = { records: [], problems: [], skipped: 0 };
    const d = await fsp.opendir(this.dir);
    let seen = 0;
    for await (const ent of d) {
      const name = ent.name;
      if (name.startsWith(TMP_PREFIX)) {
        // A write cut off before its rename: the record it was replacing (if any) is still whole.
        await fsp.unlink(path.join(this.dir, name)).catch(() => undefined);
        out.problems.push({ file: name, code: 'NFS4_RECORD_TORN', message: 'a write cut off before it was complete (removed)' });
        continue;
      }
      if (!NAME.test(name)) continue; // .bad files and anything not ours
      if (seen >= maxRecords) {
        out.skipped++;
        continue;
      }
      seen++;
      try {
        out.records.push(await this.readOne(name));
        this.onDisk.add(name);
      } catch (e) {
        const code = e instanceof RecordError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'EIO');
        out.problems.push({ file: name, code, message: (e as Error).message });
        await fsp.rename(path.join(this.dir, name), path.join(this.dir, `${name}.bad`)).catch(() => undefined);
      }
    }
    this.stats.records = this.onDisk.size;
    return out;
  }

  private async readOne(name: string): Promise<StableClient> {
    const fh = await fsp.open(path.join(this.dir, name), fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new RecordError('NFS4_RECORD_CORRUPT', 'not a regular file');
      if (st.size > MAX_RECORD_BYTES) throw new RecordError('NFS4_RECORD_OVERSIZED', `${st.size} bytes, at most ${MAX_RECORD_BYTES}`);
      // One byte more than the size said, so a file that grew since is seen (and refused).
      const buf = Buffer.alloc(st.size + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const rec = decodeRecord(buf.subarray(0, bytesRead));
      if (recordName(rec.ownerId) !== name) throw new RecordError('NFS4_RECORD_MISPLACED', 'the file name is not its owner\'s');
      return rec;
    } finally {
      await fh.close();
    }
  }

  /** Write (or replace) a client's record; settles once it is on disk. */
  write(rec: StableClient): Promise<void> {
    return this.enqueue(recordName(rec.ownerId), { kind: 'write', bytes: encodeRecord(rec) });
  }

  /** Remove an owner's record; settles once that is on disk. */
  remove(ownerId: Buffer): Promise<void> {
    return this.enqueue(recordName(ownerId), { kind: 'remove' });
  }

  /** Whether an owner has a record on disk (as this process knows). */
  has(ownerId: Buffer): boolean {
    return this.onDisk.has(recordName(ownerId));
  }

  /** Settles when every request made so far is on disk; undefined when none is outstanding. */
  idle(): Promise<void> | undefined {
    return this.running && this.drain();
  }

  private async drain(): Promise<void> {
    // A request made while a batch runs goes in the next one, which the same pump runs.
    while (this.running) await this.running;
  }

  private enqueue(name: string, op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p = this.next.get(name);
      if (p) {
        p.op = op;
        p.waiters.push({ resolve, reject });
      } else this.next.set(name, { op, waiters: [{ resolve, reject }] });
      this.running ??= this.pump();
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.next.size > 0) {
        const batch = this.next;
        this.next = new Map();
        await this.apply(batch);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async apply(batch: Map<string, Pending>): Promise<void> {
    const failed = new Map<string, unknown>();
    for (const [name, p] of batch) {
      try {
        if (p.op.kind === 'write') await this.writeFile(name, p.op.bytes);
        else await fsp.unlink(path.join(this.dir, name)).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      } catch (e) {
        failed.set(name, e);
      }
    }
    let dirError: unknown;
    try {
      const d = await fsp.open(this.dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch (e) {
      dirError = e;
    }
    for (const [name, p] of batch) {
      const e = failed.get(name) ?? dirError;
      if (e === undefined) {
        if (p.op.kind === 'write') {
          this.onDisk.add(name);
          this.stats.written++;
        } else if (this.onDisk.delete(name)) this.stats.removed++;
        for (const w of p.waiters) w.resolve();
      } else {
        this.stats.failures++;
        for (const w of p.waiters) w.reject(e);
      }
    }
    this.stats.records = this.onDisk.size;
  }

  private async writeFile(name: string, bytes: Buffer): Promise<void> {
    const tmp = path.join(this.dir, `${TMP_PREFIX}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    try {
      await fsp.rename(tmp, path.join(this.dir, name));
    } catch (e) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    }
  }
}

/** For tests and tools: the record files of a directory, by name (no reading). */
export function listRecordFiles(stateDir: string): string[] {
  try {
    return fs.readdirSync(path.join(stateDir, RECORDS_DIR)).filter((n) => NAME.test(n));
  } catch {
    return [];
  }
}
