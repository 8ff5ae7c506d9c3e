import { crc32 } from 'node:zlib';

/**
 * Duplicate request cache (knfsd's nfscache.c, RFC 5531 §… "at-most-once"):
 * a retransmitted non-idempotent call (the client timed out, or reconnected)
 * must get the original reply, not be executed twice — a second REMOVE would
 * answer NOENT, a second CREATE GUARDED EEXIST.
 *
 * Key: client address (not port: a reconnecting kernel client may come back
 * from another port), xid, program/version/procedure, plus a CRC32 and length
 * of the arguments so an xid reused for a different call is not mistaken for a
 * retransmission. Bounded by entry count and by reply bytes; least recently
 * inserted entries go first.
 */
export type DrcLookup =
  | { state: 'miss' }
  | { state: 'in-progress' }
  | { state: 'done'; reply: Buffer };

interface Entry {
  done: boolean;
  reply?: Buffer;
}

export interface DrcStats {
  hits: number;
  inProgressDrops: number;
  entries: number;
  bytes: number;
}

export class DuplicateRequestCache {
  /**
   * Two generations (see util/cache.ts for why not evict-the-first-key): new
   * entries go to `young`; when it reaches half the entry or byte budget it
   * becomes `old` and the previous old generation is dropped whole. Lookups
   * check both, so a reply stays replayable for at least half the budget's
   * worth of later calls.
   */
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngBytes = 0;
  private oldBytes = 0;
  readonly stats = { hits: 0, inProgressDrops: 0 };

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  static key(address: string, xid: number, prog: number, vers: number, proc: number, args: Buffer): string {
    // Checksum at most the first 256 bytes, as knfsd does (RC_CSUMLEN): enough
    // to tell calls apart without hashing a whole 1 MiB WRITE.
    const head = args.subarray(0, 256);
    return `${address}/${xid}/${prog}/${vers}/${proc}/${args.length}/${crc32(head)}`;
  }

  private find(key: string): Entry | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  private rotateIfFull(): void {
    if (this.young.size >= this.maxEntries / 2 || this.youngBytes >= this.maxBytes / 2) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
  }

  /** Look a call up; a miss inserts an in-progress entry for it. */
  begin(key: string): DrcLookup {
    const e = this.find(key);
    if (!e) {
      this.rotateIfFull();
      this.young.set(key, { done: false });
      return { state: 'miss' };
    }
    if (!e.done) {
      this.stats.inProgressDrops++;
      return { state: 'in-progress' };
    }
    this.stats.hits++;
    return { state: 'done', reply: e.reply! };
  }

  /** Record the exact reply bytes of a finished call. */
  finish(key: string, reply: Buffer): void {
    const e = this.find(key);
    if (!e) return; // dropped with its generation while running: nothing to keep
    e.done = true;
    e.reply = reply;
    if (this.young.get(key) === e) this.youngBytes += reply.length;
    else this.oldBytes += reply.length;
  }

  /** Forget a call that produced no cacheable reply (e.g. the connection died). */
  abandon(key: string): void {
    const e = this.find(key);
    if (e && !e.done) {
      this.young.delete(key);
      this.old.delete(key);
    }
  }

  snapshot(): DrcStats {
    return { ...this.stats, entries: this.young.size + this.old.size, bytes: this.youngBytes + this.oldBytes };
  }
}
