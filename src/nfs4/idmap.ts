/**
 * NFSv4 owners and groups are strings (RFC 8881 section 5.9). By default they are the numbers as
 * decimal strings ("1000"), which is what the Linux client sends and expects without an id mapper
 * (nfs4_disable_idmapping, the default for AUTH_SYS) and what knfsd answers to it. With a domain
 * (`--idmap-domain D`), owners are "user@D" and groups "group@D", mapped through the server
 * host's passwd and group files; numeric strings are still accepted. A name that maps to nothing
 * is NFS4ERR_BADOWNER.
 */
import fs from 'node:fs';

interface Table {
  byName: Map<string, number>;
  byId: Map<number, string>;
}

/** passwd(5) / group(5): name:x:id:... — the first entry of a name or id wins, as getpwnam does. */
function readTable(file: string): Table {
  const t: Table = { byName: new Map(), byId: new Map() };
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return t;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2])) continue;
    const id = Number(f[2]);
    if (!t.byName.has(f[0])) t.byName.set(f[0], id);
    if (!t.byId.has(id)) t.byId.set(id, f[0]);
  }
  return t;
}

const NUMERIC = /^(0|[1-9]\d{0,9})$/;

export interface IdMapperOptions {
  domain?: string;
  passwd?: string;
  group?: string;
  /** How long a read of the files is used before they are read again (ms). */
  ttlMs?: number;
}

export class IdMapper {
  readonly domain: string | undefined;
  private users?: Table;
  private groups?: Table;
  private readAt = 0;

  constructor(private readonly o: IdMapperOptions = {}) {
    this.domain = o.domain ? o.domain.toLowerCase() : undefined;
  }

  private tables(): { users: Table; groups: Table } {
    const now = Date.now();
    if (!this.users || !this.groups || now - this.readAt > (this.o.ttlMs ?? 30_000)) {
      this.users = readTable(this.o.passwd ?? '/etc/passwd');
      this.groups = readTable(this.o.group ?? '/etc/group');
      this.readAt = now;
    }
    return { users: this.users, groups: this.groups };
  }

  private toString(id: number, which: 'users' | 'groups'): string {
    if (this.domain) {
      const name = this.tables()[which].byId.get(id);
      if (name !== undefined) return `${name}@${this.domain}`;
    }
    return String(id >>> 0);
  }

  private parse(s: string, which: 'users' | 'groups'): number | undefined {
    if (NUMERIC.test(s)) {
      const n = Number(s);
      return n <= 0xffffffff ? n : undefined;
    }
    if (!this.domain) return undefined;
    const at = s.lastIndexOf('@');
    if (at <= 0 || s.slice(at + 1).toLowerCase() !== this.domain) return undefined;
    return this.tables()[which].byName.get(s.slice(0, at));
  }

  owner(uid: number): string {
    return this.toString(uid, 'users');
  }

  group(gid: number): string {
    return this.toString(gid, 'groups');
  }

  /** The uid an owner string names; undefined → NFS4ERR_BADOWNER. */
  uidOf(owner: string): number | undefined {
    return this.parse(owner, 'users');
  }

  gidOf(group: string): number | undefined {
    return this.parse(group, 'groups');
  }
}
