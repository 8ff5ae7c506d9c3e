/** Runs the shared storage conformance suite against every backend that ships. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storageConformance } from '../helpers/storage-suite.js';
import { MemoryBackend, PosixBackend, ReadAheadBackend, WriteBehindBackend } from '../../src/storage/index.js';
import { spliceCalls, statCalls } from '../helpers/native.js';

storageConformance('memory', async () => ({
  backend: new MemoryBackend({ capacityBytes: 256 << 20 }),
  cleanup: async () => {},
}));

// Without the addon: resolved through /proc/self/fd (storage/posix-at.ts ProcAt).
storageConformance('posix (no addon)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-'));
  return {
    backend: new PosixBackend(dir),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

// The read-ahead decorator the server puts in front of the POSIX backend must be invisible.
storageConformance('posix+readahead', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-ra-'));
  return {
    backend: new ReadAheadBackend(new PosixBackend(dir), { minBytes: 1 }),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

// So must write-behind (every UNSTABLE write queued: minBytes 1), on top of the read-ahead as the server stacks them.
storageConformance('posix+readahead+writebehind', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-wb-'));
  return {
    backend: new WriteBehindBackend(new ReadAheadBackend(new PosixBackend(dir), { minBytes: 1 }), { minBytes: 1 }),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

// The stack the server runs with the native addon: READ data spliced into pipes (and read ahead into
// them), large aligned writes direct, listing pages stat'ed ahead. Without the addon (a laptop with
// no compiler) this is skipped.
const splice = spliceCalls();
const stats = statCalls();
if (splice !== undefined && stats !== undefined) {
  // With the addon: openat2 and the *at family (storage/posix-at.ts NativeAt).
  storageConformance('posix (native)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-at-'));
    return {
      backend: new PosixBackend(dir, { at: stats.at, v42: stats.v42 }),
      cleanup: () => fs.rm(dir, { recursive: true, force: true }),
    };
  });
  storageConformance('posix+splice', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-sp-'));
    return {
      backend: new PosixBackend(dir, { splice, at: stats.at, v42: stats.v42 }),
      cleanup: () => fs.rm(dir, { recursive: true, force: true }),
    };
  });
  storageConformance('posix+splice+readahead+writebehind', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nfs-storage-spwb-'));
    return {
      backend: new WriteBehindBackend(new ReadAheadBackend(new PosixBackend(dir, { splice, ...stats }), { minBytes: 1 }), { minBytes: 1 }),
      cleanup: () => fs.rm(dir, { recursive: true, force: true }),
    };
  });
}
