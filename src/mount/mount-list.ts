/**
 * The in-memory list of mounts (mountd's rmtab), for DUMP. Purely advisory
 * (NFSv3 is stateless; clients need not UMNT), so it is bounded: past
 * `max` entries the oldest is forgotten rather than memory growing with
 * every client that never unmounts.
 */
import type { MountEntry } from './types.js';

export const DEFAULT_MOUNT_LIST_MAX = 10_000;

export class MountList {
  private readonly entries = new Map<string, MountEntry>();
  constructor(private readonly max = DEFAULT_MOUNT_LIST_MAX) {}

  private static key(host: string, dir: string): string {
    return `${host}\0${dir}`;
  }

  add(hostname: string, directory: string): void {
    const k = MountList.key(hostname, directory);
    // Re-adding refreshes the entry's age (Map keeps insertion order).
    this.entries.delete(k);
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(k, { hostname, directory });
  }

  remove(hostname: string, directory: string): boolean {
    return this.entries.delete(MountList.key(hostname, directory));
  }

  removeHost(hostname: string): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.hostname === hostname) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  list(): MountEntry[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }
}
