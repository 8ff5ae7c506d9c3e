/**
 * Does a peer match an exports(5) host specification?
 *
 * Order: the FIRST client spec of an export, in file order, that matches the
 * peer decides its options. This differs from Linux mountd, which ranks specs
 * by kind (exact host > subnet > wildcard > netgroup > "*") before file order.
 * File order is simpler to reason about and to audit: put the specific
 * entries first ("10.0.0.5(rw) *(ro)").
 *
 * Hostnames and wildcards need the peer's name: a reverse DNS lookup,
 * confirmed by a forward lookup (the name must resolve back to the peer's
 * address), as mountd does: otherwise whoever controls the PTR zone of their
 * own address could claim any name. Lookups time out after ~1 s and are
 * cached briefly, because the gate asks on every call.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import type { Peer } from '../rpc/context.js';
import type { ClientSpec } from './types.js';

export type HostPattern =
  | { kind: 'any' }
  /** An address (prefix = full length) or a subnet; addr already masked. */
  | { kind: 'net'; family: 4 | 6; addr: Buffer; prefix: number }
  | { kind: 'name'; name: string }
  | { kind: 'wildcard'; pattern: string; re: RegExp };

export class HostPatternError extends Error {
  readonly code = 'EINVAL';
  constructor(message: string) {
    super(message);
    this.name = 'HostPatternError';
  }
}

// ---------------------------------------------------------------- addresses

export function parseIPv4(text: string): Buffer | undefined {
  if (!isIPv4(text)) return undefined;
  return Buffer.from(text.split('.').map(Number));
}

export function parseIPv6(text: string): Buffer | undefined {
  if (!isIPv6(text)) return undefined;
  let s = text;
  let v4: Buffer | undefined;
  if (s.includes('.')) {
    // Embedded dotted quad ("::ffff:1.2.3.4"): stand in two zero groups and
    // patch the last four bytes afterwards.
    const i = s.lastIndexOf(':');
    v4 = parseIPv4(s.slice(i + 1));
    if (!v4) return undefined;
    s = s.slice(0, i + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = dbl >= 0 ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(0, zeros)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (v4) v4.copy(out, 12);
  return out;
}

const V4_MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * Canonical form of an address: IPv4-mapped IPv6 ("::ffff:127.0.0.1", what a
 * dual-stack socket reports for IPv4 peers) becomes plain IPv4, so "127.0.0.1"
 * and "10.0.0.0/8" in the exports file match such peers. A zone id ("%eth0")
 * is dropped.
 */
export function canonicalAddress(text: string): { family: 4 | 6; bytes: Buffer } | undefined {
  const s = text.replace(/%.*$/, '');
  const v4 = parseIPv4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(s);
  if (!v6) return undefined;
  if (v6.subarray(0, 12).equals(V4_MAPPED_PREFIX)) return { family: 4, bytes: Buffer.from(v6.subarray(12)) };
  return { family: 6, bytes: v6 };
}

export function formatAddress(a: { family: 4 | 6; bytes: Buffer }): string {
  if (a.family === 4) return [...a.bytes].join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(a.bytes.readUInt16BE(i).toString(16));
  return g.join(':');
}

function isLoopback(a: { family: 4 | 6; bytes: Buffer }): boolean {
  if (a.family === 4) return a.bytes[0] === 127;
  return a.bytes.subarray(0, 15).every((b) => b === 0) && a.bytes[15] === 1;
}

/**
 * Whether a connection from `remote` to `local` (socket addresses as text) stays on this host: the
 * peer is a loopback address (127/8, ::1, IPv4-mapped or not), or the same address we were reached on.
 */
export function isSameHost(remote: string, local: string): boolean {
  const r = canonicalAddress(remote);
  if (r === undefined) return false;
  if (isLoopback(r)) return true;
  const l = canonicalAddress(local);
  return l !== undefined && l.family === r.family && l.bytes.equals(r.bytes);
}

function maskInPlace(bytes: Buffer, prefix: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i]! &= (0xff << (8 - bits)) & 0xff;
  }
}

function inNet(a: { family: 4 | 6; bytes: Buffer }, p: { family: 4 | 6; addr: Buffer; prefix: number }): boolean {
  if (a.family !== p.family) return false;
  const b = Buffer.from(a.bytes);
  maskInPlace(b, p.prefix);
  return b.equals(p.addr);
}

/** Dotted netmask → prefix length; only contiguous masks make sense. */
function maskToPrefix(mask: Buffer): number | undefined {
  const n = mask.readUInt32BE(0);
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined; // ones must be contiguous from the top
  return 32 - Math.log2(inv + 1);
}

// ----------------------------------------------------------------- patterns

const compiled = new Map<string, HostPattern>();

/**
 * Parse a host spec as written in exports(5). Throws HostPatternError on
 * anything we cannot match faithfully (netgroups, Kerberos pseudo-hosts,
 * bad masks), rather than silently never matching.
 */
export function parseHostPattern(host: string): HostPattern {
  const hit = compiled.get(host);
  if (hit) return hit;
  const p = compileHost(host);
  if (compiled.size > 4096) compiled.clear(); // bounded; patterns come from config
  compiled.set(host, p);
  return p;
}

function netPattern(bytes: Buffer, family: 4 | 6, prefix: number): HostPattern {
  // A v4-mapped IPv6 spec covers IPv4 peers, which we canonicalise to IPv4.
  if (family === 6 && prefix >= 96 && bytes.subarray(0, 12).equals(V4_MAPPED_PREFIX)) {
    return netPattern(Buffer.from(bytes.subarray(12)), 4, prefix - 96);
  }
  const addr = Buffer.from(bytes);
  maskInPlace(addr, prefix);
  return { kind: 'net', family, addr, prefix };
}

function compileHost(host: string): HostPattern {
  if (host === '') throw new HostPatternError('empty host');
  if (host === '*') return { kind: 'any' };
  if (host.startsWith('@')) throw new HostPatternError(`netgroups are not supported: ${host}`);
  if (/^gss\//i.test(host)) throw new HostPatternError(`only AUTH_SYS is supported: ${host}`);
  const slash = host.indexOf('/');
  if (slash >= 0) {
    const a = host.slice(0, slash);
    const m = host.slice(slash + 1);
    const v4 = parseIPv4(a);
    const v6 = v4 ? undefined : parseIPv6(a);
    if (!v4 && !v6) throw new HostPatternError(`bad network address: ${host}`);
    const max = v4 ? 32 : 128;
    let prefix: number | undefined;
    if (/^\d{1,3}$/.test(m)) prefix = Number(m);
    else if (v4) {
      const mask = parseIPv4(m);
      prefix = mask ? maskToPrefix(mask) : undefined;
    }
    if (prefix === undefined || prefix > max) throw new HostPatternError(`bad netmask: ${host}`);
    return netPattern((v4 ?? v6)!, v4 ? 4 : 6, prefix);
  }
  const v4 = parseIPv4(host);
  if (v4) return netPattern(v4, 4, 32);
  const v6 = parseIPv6(host);
  if (v6) return netPattern(v6, 6, 128);
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_*?]([a-z0-9_*?.-]*[a-z0-9_*?])?$/.test(name) || name.includes('..')) {
    throw new HostPatternError(`bad host name: ${host}`);
  }
  if (/[*?]/.test(name)) {
    // As in Linux (wildmat), "*" also matches dots: "*.example.com" covers
    // every host in every subdomain of example.com.
    const re = new RegExp('^' + name.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    return { kind: 'wildcard', pattern: name, re };
  }
  return { kind: 'name', name };
}

// ----------------------------------------------------------------- resolver

/** Names of an address; injectable so tests need no DNS. */
export interface HostResolver {
  /** Lower-case names without trailing dot; [] when unknown or on timeout. */
  namesFor(address: string): Promise<readonly string[]>;
}

export interface DnsResolverOptions {
  /** Overall deadline for reverse + forward confirmation. */
  timeoutMs?: number;
  /** How long answers (including "no name") are reused. */
  ttlMs?: number;
  maxEntries?: number;
  /** Require the name to resolve back to the address (default true). */
  confirmForward?: boolean;
}

/**
 * Reverse DNS with forward confirmation, a deadline and a small TTL cache.
 * A c-ares Resolver (not getnameinfo) so a slow DNS server cannot tie up the
 * libuv thread pool that file I/O needs; it consults DNS only, not
 * /etc/hosts (loopback is handled without DNS, see matchClient).
 */
export class DnsHostResolver implements HostResolver {
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly confirmForward: boolean;
  private readonly resolver: dnsPromises.Resolver;
  private readonly cache = new Map<string, { expires: number; names: Promise<readonly string[]> }>();

  constructor(opts: DnsResolverOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 1024;
    this.confirmForward = opts.confirmForward ?? true;
    this.resolver = new dnsPromises.Resolver({ timeout: this.timeoutMs, tries: 1 });
  }

  namesFor(address: string): Promise<readonly string[]> {
    const now = Date.now();
    const hit = this.cache.get(address);
    if (hit && hit.expires > now) return hit.names;
    // Cache the promise itself so concurrent calls share one lookup.
    const names = this.lookup(address);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(address);
    this.cache.set(address, { expires: now + this.ttlMs, names });
    return names;
  }

  private async lookup(address: string): Promise<readonly string[]> {
    const a = canonicalAddress(address);
    if (!a) return [];
    const text = formatAddress(a);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<readonly string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), this.timeoutMs);
      timer.unref();
    });
    const work = (async (): Promise<readonly string[]> => {
      const raw = await this.resolver.reverse(text).catch(() => [] as string[]);
      const names = [...new Set(raw.slice(0, 8).map((n) => n.toLowerCase().replace(/\.$/, '')))];
      if (!this.confirmForward) return names;
      const ok: string[] = [];
      await Promise.all(
        names.map(async (n) => {
          const addrs = await (a.family === 4 ? this.resolver.resolve4(n) : this.resolver.resolve6(n)).catch(() => [] as string[]);
          if (addrs.some((x) => { const c = canonicalAddress(x); return c !== undefined && c.family === a.family && c.bytes.equals(a.bytes); })) ok.push(n);
        }),
      );
      return ok;
    })();
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

let defaultResolver: HostResolver | undefined;
/** Process-wide resolver, created on first use. */
export function getDefaultResolver(): HostResolver {
  return (defaultResolver ??= new DnsHostResolver());
}

// ----------------------------------------------------------------- matching

function needsName(p: HostPattern): boolean {
  return p.kind === 'name' || p.kind === 'wildcard';
}

/** The peer's address(es): a Unix-socket peer is this host, i.e. loopback. */
function peerAddresses(peer: Peer): { family: 4 | 6; bytes: Buffer }[] {
  if (peer.family === 'unix') return [canonicalAddress('127.0.0.1')!, canonicalAddress('::1')!];
  const a = canonicalAddress(peer.address);
  return a ? [a] : [];
}

/**
 * Index of the first host spec, in file order, that matches the peer; -1
 * when none does. The name lookup happens at most once, and only when no
 * address-only spec matched first.
 */
export async function matchHostIndex(
  hosts: readonly string[],
  peer: Peer,
  resolver: HostResolver = getDefaultResolver(),
): Promise<number> {
  const addrs = peerAddresses(peer);
  let names: readonly string[] | undefined;
  const getNames = async (): Promise<readonly string[]> => {
    if (names) return names;
    const set = new Set<string>();
    // Loopback is "localhost" without asking DNS (which rarely knows it).
    if (addrs.some(isLoopback)) set.add('localhost');
    if (peer.family !== 'unix' && addrs[0]) {
      for (const n of await resolver.namesFor(formatAddress(addrs[0]))) set.add(n);
    }
    return (names = [...set]);
  };
  for (let i = 0; i < hosts.length; i++) {
    const p = parseHostPattern(hosts[i]!);
    if (p.kind === 'any') return i;
    if (p.kind === 'net') {
      if (addrs.some((a) => inNet(a, p))) return i;
      continue;
    }
    if (!needsName(p)) continue;
    const ns = await getNames();
    if (p.kind === 'name' ? ns.includes(p.name) : ns.some((n) => p.re.test(n))) return i;
  }
  return -1;
}

/** The first client spec, in file order, matching the peer; undefined = refused. */
export async function matchClient(
  clients: readonly ClientSpec[],
  peer: Peer,
  resolver?: HostResolver,
): Promise<ClientSpec | undefined> {
  const i = await matchHostIndex(clients.map((c) => c.host), peer, resolver);
  return i < 0 ? undefined : clients[i];
}

/** Does this one host spec match the peer? */
export async function hostMatches(host: string, peer: Peer, resolver?: HostResolver): Promise<boolean> {
  return (await matchHostIndex([host], peer, resolver)) === 0;
}
