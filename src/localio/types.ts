/**
 * The contracts between a LOCALIO client and server. The in-process ones are
 * plain, versioned objects: the registry lives on globalThis and is shared by
 * every copy of this package loaded in the process, so nothing here may rely
 * on `instanceof` or on module identity.
 */

/** The credential a local open acts with: the mount's AUTH_SYS identity. */
export interface LocalCred {
  uid: number;
  gid: number;
  gids: number[];
}

export type LocalMode = 'r' | 'rw';

/** A descriptor a server opened for a local client. */
export interface LocalFile {
  readonly fd: number;
  /** The export it belongs to (so an unexport can invalidate exactly its files). */
  readonly exportId: number;
  /** Give it back: in-process it drops a reference on the server's descriptor; across processes it closes the passed copy. Idempotent. */
  release(): void;
}

export interface IoCounts {
  reads: number;
  writes: number;
  commits: number;
  bytesRead: number;
  bytesWritten: number;
}

/** A client's own counters, shown by the server's status and metrics (local I/O never reaches the server). */
export interface ClientReport {
  local: IoCounts;
  wire: IoCounts;
  fallbacks: number;
}

/** What the client's side of a binding must do when the server invalidates it. */
export interface InvalidateTarget {
  /**
   * Close every cached descriptor (of one export, or all when undefined),
   * after the local I/O in flight on it finishes. Resolves when done.
   */
  invalidate(exportId: number | undefined, reason: string): Promise<void>;
  /** The binding is gone for good (server closed, channel lost). */
  lost(reason: string): void;
  /** The client's counters now (in-process: read directly). */
  report?(): ClientReport;
}

/** The server side of an in-process binding, handed to the client by claim(). */
export interface InProcessServer {
  readonly v: 1;
  /** Unique per server start: a restarted server is a different instance. */
  readonly instance: string;
  /** Runs the same verification gate as a wire request. Rejects with an Error carrying an errno `code`. */
  open(fh: Buffer, cred: LocalCred, mode: LocalMode): Promise<LocalFile>;
  /** The serve reference: every local I/O takes one; false once the server is shutting down. */
  tryGet(): boolean;
  put(): void;
  /** The client is done with this binding (closed, or disabled). */
  detach(): void;
}

/** What a probing client registers under its nonce in the in-process registry. */
export interface InProcessProbe {
  readonly v: 1;
  /**
   * Called by the server that received the nonce, before it replies. Returns
   * the client's invalidation target, or undefined when the probe is over.
   */
  claim(server: InProcessServer): InvalidateTarget | undefined;
}
