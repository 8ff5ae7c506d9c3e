/**
 * The NFSv4 namespace over the exports: the pseudo-filesystem above them (pseudo.ts), and the
 * junctions where a LOOKUP crosses from one file system into another — from the pseudo tree into
 * an export, or from an export into an export nested inside it (knfsd's crossmnt), so that every
 * path reaches the export a v3 MOUNT of it would (the longest exported prefix). Each export is
 * its own file system to the client (its own fsid); `mountpoint` names the directory an export
 * covers, for LOOKUPP out of its root and for mounted_on_fileid.
 */
import type { Peer } from '../rpc/context.js';
import type { Node } from '../storage/types.js';
import type { Export, ExportOptions } from './types.js';
import type { PseudoFs } from './pseudo.js';
import { splitPath } from './path.js';

export interface NamespaceSource {
  list(): readonly Export[];
  pseudo(): Export;
  optionsFor(exp: Export, peer: Peer): Promise<ExportOptions | undefined>;
}

function within(inner: string, outer: string): boolean {
  return outer === '/' ? inner !== '/' : inner.startsWith(outer + '/');
}

export class Namespace {
  /** Per export id: node key (hex) → the export nested there. Rebuilt when exports change. */
  private nested = new Map<number, Promise<Map<string, Export>>>();

  constructor(private readonly src: NamespaceSource) {}

  /** Per export id: whether another export lies inside it (junctions are possible). */
  private hasInside = new Map<number, boolean>();

  /** Exports changed: forget what was resolved. */
  reset(): void {
    this.nested.clear();
    this.hasInside.clear();
  }

  /**
   * Whether a LOOKUP or READDIR in `exp` can meet a junction at all: in the pseudo-filesystem,
   * or in an export with another inside it. Lets the common case (no nested exports) skip the
   * per-entry look-up.
   */
  mayCross(exp: Export): boolean {
    if (exp === this.src.pseudo()) return true;
    let v = this.hasInside.get(exp.id);
    if (v === undefined) {
      v = this.src.list().some((e) => e !== exp && within(e.path, exp.path));
      this.hasInside.set(exp.id, v);
    }
    return v;
  }

  private get pseudoFs(): PseudoFs {
    return this.src.pseudo().backend as PseudoFs;
  }

  /** The export whose path is the longest proper prefix of `exp`'s (undefined: the pseudo tree is above it). */
  private outer(exp: Export): Export | undefined {
    let best: Export | undefined;
    for (const e of this.src.list()) {
      if (e !== exp && within(exp.path, e.path) && (!best || e.path.length > best.path.length)) best = e;
    }
    return best;
  }

  /** Where PUTROOTFH goes: an export of "/" itself, else the pseudo root. */
  async root(): Promise<{ exp: Export; node: Node }> {
    const slash = this.src.list().find((e) => e.path === '/');
    const exp = slash ?? this.src.pseudo();
    return { exp, node: await exp.backend.root() };
  }

  /**
   * The directory `exp` covers: a pseudo node, or a directory of the export it is nested in.
   * Undefined for an export of "/" (nothing is above it) or when the directory cannot be found.
   */
  async mountpoint(exp: Export): Promise<{ exp: Export; node: Node } | undefined> {
    if (exp.path === '/' || exp === this.src.pseudo()) return undefined;
    const o = this.outer(exp);
    if (!o) {
      const node = this.pseudoFs.nodeAt(exp.path);
      return node && { exp: this.src.pseudo(), node };
    }
    let node = await o.backend.root();
    try {
      for (const c of splitPath(exp.path).slice(splitPath(o.path).length)) node = await o.backend.lookup(node, c);
    } catch {
      return undefined;
    }
    return { exp: o, node };
  }

  /** The export whose root `node` of `exp` is the mount point of, if any. */
  async junction(exp: Export, node: Node): Promise<Export | undefined> {
    if (exp === this.src.pseudo()) {
      const p = this.pseudoFs.pathOf(node);
      return this.src.list().find((e) => e.path === p);
    }
    let m = this.nested.get(exp.id);
    if (!m) {
      m = this.resolveNested(exp);
      this.nested.set(exp.id, m);
    }
    return (await m).get(node.key.toString('hex'));
  }

  private async resolveNested(exp: Export): Promise<Map<string, Export>> {
    const out = new Map<string, Export>();
    for (const f of this.src.list()) {
      if (!within(f.path, exp.path) || this.outer(f) !== exp) continue;
      const mp = await this.mountpoint(f);
      if (mp) out.set(mp.node.key.toString('hex'), f);
    }
    return out;
  }

  /**
   * Whether a pseudo directory is shown to `peer`: only those on the way to an export the peer
   * may use (exports(5) host rules), so a client sees no more of the tree than it may mount.
   */
  async visible(node: Node, peer: Peer): Promise<boolean> {
    const p = this.pseudoFs.pathOf(node);
    for (const e of this.src.list()) {
      if ((e.path === p || within(e.path, p)) && (await this.src.optionsFor(e, peer))) return true;
    }
    return false;
  }
}
