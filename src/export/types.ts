import type { Backend, Node, Attrs, FileType } from '../storage/types.js';
import type { Credential } from '../rpc/auth.js';
import type { Peer } from '../rpc/context.js';

/** Options of one exports(5) client entry, with Linux defaults when absent (ro, secure, root_squash, sync). */
export interface ExportOptions {
  readOnly: boolean;
  /** Require a source port below 1024 ("secure", the default; "insecure" lifts it). */
  secure: boolean;
  squash: 'root' | 'all' | 'none';
  anonuid: number;
  anongid: number;
  /** "sync": WRITE/COMMIT honour durability; "async" lets the server reply before data is durable. */
  sync: boolean;
}

/** One client specification: a host pattern and its options. */
export interface ClientSpec {
  /** As written: IP, CIDR, "*", a hostname or a hostname wildcard. */
  host: string;
  options: ExportOptions;
}

/** One line of an exports file. */
export interface ExportEntry {
  /** Absolute directory path on the server; it is also the path clients mount. */
  path: string;
  clients: ClientSpec[];
}

/** The effective identity a call acts as, after squashing. */
export interface Identity {
  uid: number;
  gid: number;
  gids: readonly number[];
}

/** One live export. */
export interface Export {
  /** 32-bit id, stable for a given path across restarts; also reported as fsid. */
  readonly id: number;
  readonly path: string;
  readonly backend: Backend;
  readonly entry: ExportEntry;
  /** Key of the backend root (to stop ".." at the export root). */
  readonly rootKey: Buffer;
}

/** Access bits for permission checks (as in knfsd's NFSD_MAY_*). */
export const May = {
  READ: 1,
  WRITE: 2,
  EXEC: 4,
  /** Look up in a directory (search permission). */
  LOOKUP: 8,
  /** Owner-only operations (chmod, utimes to arbitrary values, chown as owner). */
  OWNER: 16,
  /** Truncate (write permission on the file). */
  TRUNC: 32,
  /** Never fail for read-only export (e.g. GETATTR). */
  NONE: 0,
} as const;

/** What the caller of the gate needs of the object. */
export interface Want {
  /** Required file type; 'any' by default. Mismatch → ENOTDIR / EISDIR / EINVAL. */
  type?: FileType | 'any' | 'notdir';
  /** Permission bits from `May`; WRITE on a read-only export → EROFS. */
  may?: number;
}

/** The result of the single file-handle verification gate. */
export interface Verified {
  export: Export;
  node: Node;
  attrs: Attrs;
  options: ExportOptions;
  identity: Identity;
}

/** Raised by the gate. `code` is an errno-style string (ESTALE, EBADHANDLE, EACCES, EPERM, EROFS, ENOTDIR, EISDIR, EINVAL). */
export class GateError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'GateError';
    this.code = code;
  }
}

/** Who a call is from, as the gate needs it. */
export interface Caller {
  cred: Credential;
  peer: Peer;
}

export interface FhGate {
  /**
   * Decode and authenticate `fh`, find its export, check the client may use
   * that export (host match, secure port), squash the credential, resolve the
   * node, check type and permission. The only way a handle becomes a Node.
   */
  verify(fh: Buffer, caller: Caller, want?: Want): Promise<Verified>;
  /** verify()'s type, read-only and permission checks again on its earlier result (no new look-up). */
  recheck(v: Verified, want?: Want): Verified;
  /** Build the handle for a node of an export. At most 64 bytes. */
  compose(exp: Export, node: Node): Buffer;
}

/** The ids the server process itself runs as, and whether it may act as other users. */
export interface ServerIdentity {
  /** True when running as root: AUTH_SYS identities are enforced and files are created owned by the caller. */
  privileged: boolean;
  uid: number;
  gid: number;
  gids: readonly number[];
}

/** MOUNT's view of a dirpath: the export, the directory node and the options for this client. */
export interface MountResolution {
  export: Export;
  node: Node;
  options: ExportOptions;
}

/** The live set of exports, as MOUNT and the server need it. */
export interface ExportRegistry {
  list(): readonly Export[];
  byId(id: number): Export | undefined;
  /** The options that apply to this peer, or undefined when the export refuses it. */
  optionsFor(exp: Export, peer: Peer): Promise<ExportOptions | undefined>;
  /**
   * MOUNT: resolve a dirpath that is an export or a directory inside one, for
   * this peer. Throws GateError EACCES (host refused), ENOENT, ENOTDIR.
   * Never crosses a symlink.
   */
  resolveMount(dirpath: string, peer: Peer): Promise<MountResolution>;
}
