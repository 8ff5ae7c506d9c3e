/**
 * What the client stream tests share: our own server (a child process, as
 * the API suite runs it) and a client on it once over LOCALIO — what a
 * client gets by default with the server on this host — and once over the
 * wire (localio: false); and trace(), which records what a stream emits so
 * the same thing done with fs's streams on the exported directory can be
 * compared event for event.
 */
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { connect, type NfsClient } from '../../src/index.js';
import type { IoCounts } from '../../src/localio/client.js';
import { startOurs, type Target } from './targets.js';

export const WATCHDOG = { timeout: 60_000 };
export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Trace {
  events: string[];
  data: Buffer | string;
  chunks: number[];
  error?: NodeJS.ErrnoException;
}

/** What a stream emits until `until` ('close' unless it is to stay open): events in order, data joined. */
export function trace(s: Readable | Writable, until: 'close' | 'end' | 'finish' = 'close'): Promise<Trace> {
  const events: string[] = [];
  const parts: Array<Buffer | string> = [];
  const t: Trace = { events, data: Buffer.alloc(0), chunks: [] };
  s.on('open', (fd: unknown) => events.push(`open:${typeof fd}`));
  s.on('ready', () => events.push('ready'));
  if ('read' in s) s.on('data', (d: Buffer | string) => (parts.push(d), t.chunks.push(d.length)));
  for (const e of ['end', 'finish', 'close']) s.on(e, () => events.push(e));
  s.on('error', (e: NodeJS.ErrnoException) => {
    t.error = e;
    events.push(`error:${e.code}:${e.syscall}`);
  });
  return new Promise((resolve) =>
    s.once(until, () =>
      setImmediate(() => {
        t.data = parts.length > 0 && typeof parts[0] === 'string' ? parts.join('') : Buffer.concat(parts as Buffer[]);
        resolve(t);
      }),
    ),
  );
}

/** Assert that `ours` throws synchronously the way fs does for the same arguments (class and code). */
export function throwsAsFs(ours: () => unknown, theirs: () => unknown): void {
  let expected: NodeJS.ErrnoException | undefined;
  try {
    theirs();
  } catch (e) {
    expected = e as NodeJS.ErrnoException;
  }
  assert.ok(expected, 'fs throws for these arguments');
  assert.throws(ours, (e: NodeJS.ErrnoException) => e.constructor === expected!.constructor && e.code === expected!.code);
}

export interface StreamEnv {
  mode: 'LOCALIO' | 'wire';
  /** The client of this mode (set before the tests run). */
  readonly c: NfsClient;
  readonly t: Target;
  /** The local path of an export path. */
  local(p: string): string;
  /** A fresh directory per test (its export path). */
  fresh(): string;
  /** READs and WRITEs on the path this mode is about: local ones for LOCALIO, RPCs for the wire. */
  io(): IoCounts;
  /** Every file a test opened is closed again. */
  noOpenFiles(): void;
}

/** `body` once over LOCALIO and once over the wire, against one server of ours. */
export function streamSuites(title: string, body: (e: StreamEnv) => void): void {
  describe(title, () => {
    let t: Target;
    let n = 0;
    before(async () => {
      t = await startOurs();
    });
    after(async () => {
      await t?.stop();
    });
    for (const mode of ['LOCALIO', 'wire'] as const) {
      describe(`over ${mode}`, () => {
        let c: NfsClient;
        const env: StreamEnv = {
          mode,
          get c() {
            return c;
          },
          get t() {
            return t;
          },
          local: (p) => path.join(t.dir, p),
          fresh: () => {
            const d = `/${mode}-${++n}`;
            fs.mkdirSync(env.local(d));
            return d;
          },
          io: () => (mode === 'LOCALIO' ? c.localio.status().local : c.localio.status().wire),
          noOpenFiles: () => assert.equal(c.stats().openFiles, 0, 'every FileHandle the streams opened is closed'),
        };
        before(async () => {
          c = await connect(t.url, { localio: mode === 'LOCALIO' });
          await c.localio.settled();
          assert.equal(c.localio.isLocal, mode === 'LOCALIO', c.localio.status().reason);
        });
        after(async () => {
          await c?.close();
        });
        body(env);
      });
    }
  });
}
