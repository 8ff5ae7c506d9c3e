/**
 * The live export table: MOUNT's registry and THE file-handle gate.
 *
 * Every NFS procedure turns a handle into a Node only through verify(), so
 * the checks (handle authenticity, export still present, host allowed,
 * secure port, squashing, type, read-only, permission) live in one place
 * and in one order, and no procedure can forget one.
 *
 * Caveat shared with Linux (no_subtree_check): the MAC proves a handle was
 * minted for an export, not that the client reached the object through a
 * path it may search. Nested exports with different host lists do not
 * isolate each other when the outer backend also contains the inner tree.
 */
import { createHash } from 'node:crypto';
import type { Backend, FileType, Node } from '../storage/types.js';
import type { Peer } from '../rpc/context.js';
import {
  GateError,
  May,
  type Caller,
  type Export,
  type ExportEntry,
  type ExportOptions,
  type ExportRegistry,
  type FhGate,
  type MountResolution,
  type ServerIdentity,
  type Verified,
  type Want,
} from './types.js';
import { decodeFh, encodeFhCompact } from './fh.js';
import { matchClient, parseHostPattern, type HostResolver } from './match.js';
import { normalizePath, splitPath, PathError } from './path.js';
import { squash } from './squash.js';
import { GenerationalCache } from '../util/cache.js';
import { codeOf, errnoError } from '../util/errno.js';
import { isOwner, permits } from './permission.js';
import { PseudoFs } from './pseudo.js';
import { Namespace } from './namespace.js';

export interface ExportTableOptions {
  /** Handle MAC key (see loadOrCreateSecret). */
  secret: Buffer;
  server: ServerIdentity;
  /** Name lookups for hostname specs; DNS by default. Tests inject a fake. */
  resolver?: HostResolver;
}

/**
 * Export id (= fsid) for a path: a hash, so it is the same after a restart
 * without any stored state and handles stay valid. `attempt` > 0 is only
 * used on a collision (then the id depends on the order exports are added).
 */
export function exportIdForPath(path: string, attempt = 0): number {
  const h = createHash('sha256').update('nfs-localio export id\0').update(path);
  if (attempt) h.update(`\0${attempt}`);
  return h.digest().readUInt32BE(0);
}

/** Operations that change the object: refused with EROFS on a read-only export. */
const MODIFYING = May.WRITE | May.TRUNC | May.OWNER;

/** A port below 1024 can only be bound by root on the client ("secure"). Unix sockets have no port: the socket's file mode decides who connects. */
function insecurePort(peer: Peer): boolean {
  return peer.family !== 'unix' && peer.port >= 1024;
}

function checkType(t: FileType, want: Want['type']): void {
  if (want === undefined || want === 'any') return;
  if (want === 'dir') {
    // A symlink where a directory is wanted: NFSv4 answers SYMLINK, NFSv3 NOTDIR (vfs/status.ts).
    if (t === 'lnk') throw new GateError('ESYMLINKDIR', 'a symbolic link, not a directory');
    if (t !== 'dir') throw new GateError('ENOTDIR', 'not a directory');
    return;
  }
  if (t === 'dir' && (want === 'reg' || want === 'notdir')) throw new GateError('EISDIR', 'is a directory');
  if (want === 'notdir') return;
  if (t === want) return;
  // A regular file wanted: a symlink is ELOOP, anything else EWRONGTYPE — NFSv4 answers SYMLINK and
  // WRONG_TYPE (knfsd's nfsd_mode_check), NFSv3 INVAL for both (vfs/status.ts).
  if (want === 'reg') throw new GateError(t === 'lnk' ? 'ELOOP' : 'EWRONGTYPE', `not a regular file but a ${t}`);
  throw new GateError('EINVAL', `not a ${want}`);
}

/**
 * The pseudo-filesystem's export: read-only, open to every host (what a host may see in it is
 * filtered by Namespace.visible), no squashing needed (its directories are 0555 root's), and no
 * secure-port rule, so that a client can always reach the exports it may use.
 */
const PSEUDO_OPTIONS: ExportOptions = Object.freeze({ readOnly: true, secure: false, squash: 'none', anonuid: 65534, anongid: 65534, sync: true });
const PSEUDO_ID = exportIdForPath('\0nfs4 pseudo-root');

/** Half the bound of the handle caches (see GenerationalCache): 32k handles at most, a few MiB. */
const FH_CACHE_HALF = 16384;

export class ExportTable implements ExportRegistry, FhGate {
  private readonly secret: Buffer;
  private readonly server: ServerIdentity;
  private readonly resolver: HostResolver | undefined;
  private readonly ids = new Map<number, Export>();
  private readonly paths = new Map<string, { exp: Export; comps: string[] }>();
  /**
   * Hot-path caches for the gate. A handle's MAC check is deterministic for
   * a given secret, so a handle seen recently need not be re-hashed; a
   * peer's match against an export's host list only changes when exports
   * change (or, for hostname patterns, DNS — hence the TTL). Both bounded.
   */
  private readonly fhCache = new GenerationalCache<string, { exportId: number; nodeKey: Buffer }>(FH_CACHE_HALF);
  private readonly optCache = new GenerationalCache<string, { options: ExportOptions | undefined; until: number }>(1024);
  /** Handles already minted, by export and node key: READDIRPLUS re-lists the same entries. */
  private readonly composeCache = new GenerationalCache<string, Buffer>(FH_CACHE_HALF);
  /** The same, by node identity: lives as long as the backend keeps the node. */
  private byNode = new WeakMap<Node, { exp: Export; fh: Buffer }>();
  private static readonly OPT_TTL_MS = 30_000;
  private pseudoExp: Export = ExportTable.pseudoExport([]);
  /** The NFSv4 namespace: the pseudo-filesystem and the junctions into exports. */
  readonly namespace = new Namespace(this);

  private static pseudoExport(paths: string[]): Export {
    const backend = new PseudoFs(paths);
    return Object.freeze({
      id: PSEUDO_ID,
      path: '/',
      backend,
      entry: { path: '/', clients: [{ host: '*', options: PSEUDO_OPTIONS }] },
      rootKey: Buffer.from((backend.nodeAt('/') as { key: Buffer }).key),
    });
  }

  /** The NFSv4 pseudo-filesystem's export (not in list(): MOUNT and status never show it). */
  pseudo(): Export {
    return this.pseudoExp;
  }

  /** The export list changed: the pseudo tree and the namespace follow. */
  private exportsChanged(): void {
    this.pseudoExp = ExportTable.pseudoExport([...this.paths.keys()]);
    this.namespace.reset();
    this.optCache.clear();
  }

  constructor(opts: ExportTableOptions) {
    if (opts.secret.length < 16) throw new RangeError('file handle secret must be at least 16 bytes');
    this.secret = opts.secret;
    this.server = opts.server;
    this.resolver = opts.resolver;
  }

  /**
   * Publish a backend under entry.path. Host specs are validated now, so a
   * bad one fails at startup rather than on the first call.
   */
  async add(entry: ExportEntry, backend: Backend): Promise<Export> {
    const path = normalizePath(entry.path);
    for (const c of entry.clients) parseHostPattern(c.host);
    const root = await backend.root();
    const attrs = await backend.getattr(root);
    if (attrs.type !== 'dir') throw errnoError('ENOTDIR', `${path}: export root is not a directory`);
    // Checked after the awaits so two concurrent add()s of one path cannot both succeed.
    if (this.paths.has(path)) throw errnoError('EEXIST', `${path} is already exported`);
    let id = 0;
    for (let attempt = 0; id === 0 || id === PSEUDO_ID || this.ids.has(id); attempt++) id = exportIdForPath(path, attempt);
    const exp: Export = Object.freeze({
      id,
      path,
      backend,
      // A private copy: later edits to the caller's object must not change access.
      entry: { path, clients: entry.clients.map((c) => ({ host: c.host, options: { ...c.options } })) },
      rootKey: Buffer.from(root.key),
    });
    this.ids.set(id, exp);
    this.paths.set(path, { exp, comps: splitPath(path) });
    this.exportsChanged();
    return exp;
  }

  /**
   * Withdraw an export: its handles become ESTALE at once. The backend is
   * not closed (whoever created it owns it).
   */
  remove(path: string): Export | undefined {
    const p = normalizePath(path);
    const hit = this.paths.get(p);
    if (!hit) return undefined;
    this.paths.delete(p);
    this.ids.delete(hit.exp.id);
    this.exportsChanged();
    this.composeCache.clear();
    this.byNode = new WeakMap();
    return hit.exp;
  }

  list(): readonly Export[] {
    return [...this.ids.values()];
  }

  byId(id: number): Export | undefined {
    return this.ids.get(id);
  }

  /** An export or the pseudo-filesystem's, by id. */
  private anyById(id: number): Export | undefined {
    return this.ids.get(id) ?? (id === PSEUDO_ID ? this.pseudoExp : undefined);
  }

  async optionsFor(exp: Export, peer: Peer): Promise<ExportOptions | undefined> {
    const options = (await matchClient(exp.entry.clients, peer, this.resolver))?.options;
    if (this.anyById(exp.id) === exp) {
      this.optCache.set(`${exp.id}|${peer.address}`, { options, until: Date.now() + ExportTable.OPT_TTL_MS });
    }
    return options;
  }

  async resolveMount(dirpath: string, peer: Peer): Promise<MountResolution> {
    let comps: string[];
    try {
      comps = splitPath(dirpath);
    } catch (e) {
      if (e instanceof PathError) throw new GateError(e.code, e.message);
      throw e;
    }
    // Longest component-wise prefix: "/srv/ab" is inside "/srv", not "/srv/a".
    let best: { exp: Export; comps: string[] } | undefined;
    for (const cand of this.paths.values()) {
      if (cand.comps.length > comps.length || (best && cand.comps.length <= best.comps.length)) continue;
      if (cand.comps.every((c, i) => c === comps[i])) best = cand;
    }
    // "Not exported" and "not exported to you" look the same, as with mountd.
    if (!best) throw new GateError('EACCES', `${dirpath} is not exported`);
    const exp = best.exp;
    const options = await this.optionsFor(exp, peer);
    if (!options) throw new GateError('EACCES', `${exp.path} is not exported to ${peer.address}`);
    // mountd refuses a mount from an unprivileged port too; every later call would fail anyway.
    if (options.secure && insecurePort(peer)) {
      throw new GateError('EPERM', `${exp.path} requires a source port below 1024 (export option "insecure" lifts this)`);
    }
    let node: Node = await exp.backend.root();
    for (const name of comps.slice(best.comps.length)) {
      try {
        node = await exp.backend.lookup(node, name);
      } catch (e) {
        const code = codeOf(e);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ENAMETOOLONG') {
          throw new GateError(code, `${dirpath}: ${(e as Error).message}`);
        }
        throw e;
      }
      const t = (await exp.backend.getattr(node)).type;
      // A symlink is never followed: it could point outside the export, and
      // the client, not the server, is the one meant to interpret it.
      if (t === 'lnk') throw new GateError('ENOTDIR', `${dirpath}: "${name}" is a symbolic link (not followed)`);
      if (t !== 'dir') throw new GateError('ENOTDIR', `${dirpath}: "${name}" is not a directory`);
    }
    return { export: exp, node, options };
  }

  compose(exp: Export, node: Node): Buffer {
    // Fast path: the same node object (backends that reuse nodes, e.g. the
    // POSIX one) for the same export. Node keys are immutable, so the handle
    // is too. No string key to build and hash: ~15 ns instead of ~350 ns.
    const memo = this.byNode.get(node);
    if (memo !== undefined && memo.exp === exp) return memo.fh;
    const k = `${exp.id}:${node.key.toString('latin1')}`;
    let fh = this.composeCache.get(k);
    if (!fh) {
      fh = encodeFhCompact(this.secret, exp.id, node.key);
      this.composeCache.set(k, fh);
      // A handle we minted is proven good: its first use skips the MAC check.
      this.remember(fh, exp.id, Buffer.from(node.key));
    }
    this.byNode.set(node, { exp, fh });
    return fh;
  }

  /** decodeFh (EBADHANDLE on any malformation or MAC mismatch), memoised for handles already proven good. */
  private decode(fh: Buffer): { exportId: number; nodeKey: Buffer } {
    const k = fh.toString('latin1');
    const hit = this.fhCache.get(k);
    if (hit) return hit;
    const d = decodeFh(this.secret, fh);
    this.fhCache.set(k, d);
    return d;
  }

  private remember(fh: Buffer, exportId: number, nodeKey: Buffer): void {
    this.fhCache.set(fh.toString('latin1'), { exportId, nodeKey });
  }

  async verify(fh: Buffer, caller: Caller, want: Want = {}): Promise<Verified> {
    const { exportId, nodeKey } = this.decode(fh);
    const exp = this.anyById(exportId);
    if (!exp) throw new GateError('ESTALE', 'export no longer present');
    const ok = this.optCache.get(`${exp.id}|${caller.peer.address}`);
    const options = ok && ok.until > Date.now() ? ok.options : await this.optionsFor(exp, caller.peer);
    if (!options) throw new GateError('EACCES', `${exp.path} is not exported to ${caller.peer.address}`);
    // knfsd answers nfserr_perm for a secure export reached from a high port.
    if (options.secure && insecurePort(caller.peer)) throw new GateError('EPERM', `${exp.path} requires a source port below 1024`);
    const identity = squash(caller.cred, options, this.server);
    let node: Node;
    try {
      node = await exp.backend.fromKey(nodeKey);
    } catch (e) {
      // The contract says ESTALE; an object that is simply gone is stale too.
      if (codeOf(e) === 'ENOENT') throw new GateError('ESTALE', 'object no longer exists');
      throw e;
    }
    const attrs = { ...(await exp.backend.getattr(node)), fsid: BigInt(exp.id) };
    return this.recheck({ export: exp, node, attrs, options, identity }, want);
  }

  /**
   * The type, read-only and permission checks of verify() again, on what an earlier verify() of
   * the same handle found (an NFSv4 COMPOUND's PUTFH, for the operation after it): no second
   * look-up or getattr. Throws as verify() does.
   */
  recheck(v: Verified, want: Want = {}): Verified {
    const { attrs, identity, options } = v;
    checkType(attrs.type, want.type);
    const may = want.may ?? May.NONE;
    if (options.readOnly && may & MODIFYING) throw new GateError('EROFS', `${v.export.path} is exported read-only`);
    if (!permits(attrs, identity, may)) {
      // Owner-only operations failing is "not owner" (EPERM, NFS3ERR_PERM), as chmod(2) says.
      if (may & May.OWNER && !isOwner(attrs, identity)) throw new GateError('EPERM', 'not the owner');
      throw new GateError('EACCES', 'permission denied');
    }
    return v;
  }
}
