/**
 * The in-process tier of the nonce registry (the kernel's global nfs_uuids
 * list): a Map on globalThis under a Symbol.for key, so every copy of this
 * package loaded in one process — two versions in node_modules, ESM and a
 * bundle — sees the same nonces. Entries exist only while a probe is in
 * flight.
 */
import type { InProcessProbe } from './types.js';

const KEY = Symbol.for('nfs-localio.localio.registry.v1');

type Registry = Map<string, InProcessProbe>;

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[KEY];
  if (!(r instanceof Map)) {
    r = new Map();
    Object.defineProperty(g, KEY, { value: r, enumerable: false, configurable: false, writable: false });
  }
  return r;
}

export function registerNonce(nonce: Buffer, probe: InProcessProbe): void {
  registry().set(nonce.toString('hex'), probe);
}

export function unregisterNonce(nonce: Buffer): void {
  registry().delete(nonce.toString('hex'));
}

/** Find (and remove: a nonce is single-use) the probe registered under `nonce`. */
export function takeNonce(nonce: Buffer): InProcessProbe | undefined {
  const r = registry();
  const k = nonce.toString('hex');
  const p = r.get(k);
  if (p === undefined || p.v !== 1 || typeof p.claim !== 'function') return undefined;
  r.delete(k);
  return p;
}

/** Nonces registered now (tests: nothing may be left behind). */
export function registeredNonces(): number {
  return registry().size;
}
