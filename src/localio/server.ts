/**
 * The server side of LOCALIO (knfsd's fs/nfsd/localio.c + the nfs_common
 * glue), in user space:
 *
 * - UUID_IS_LOCAL looks the nonce up in the in-process registry, else
 *   connects to the client's rendezvous socket, and BINDS the client to this
 *   server instance and to the export-client identity of the NFS connection
 *   that sent the call (the peer the exports are matched against — the
 *   kernel's auth_domain) before the RPC reply goes out.
 * - A bound client opens files with open(): the same verification gate as a
 *   wire request (handle → export for that peer → squash → regular file →
 *   permission), then the backend's descriptor cache. In-process the client
 *   shares the server's descriptor by reference; across processes the
 *   descriptor travels by SCM_RIGHTS and the server keeps its reference until
 *   the client says it closed its copy.
 * - Lifetimes: every local open and in-process I/O holds the serve
 *   reference; close() kills it, invalidates every client (they close their
 *   descriptors once their I/O finishes and acknowledge), waits — bounded —
 *   and only then lets the server close its listeners and file caches. A
 *   client can delay shutdown by at most the bound, never pin it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { RpcProgram } from '../rpc/program.js';
import type { CallContext, Peer } from '../rpc/context.js';
import type { Credential } from '../rpc/auth.js';
import { May, type FhGate } from '../export/types.js';
import { modeBeforeWrite } from '../export/setid.js';
import type { LocalFd } from '../storage/types.js';
import { log } from '../util/log.js';
import { createLocalioProgram } from './program.js';
import { takeNonce } from './registry.js';
import { findSocket } from './rendezvous.js';
import { ServeRef } from './serve-ref.js';
import { CHANNEL_VERSION, decodeMsg, encodeMsg, type ChannelMsg } from './protocol.js';
import { loadFdPass, SeqpacketChannel } from './native.js';
import type { ClientReport, InProcessProbe, InProcessServer, IoCounts, LocalCred, LocalMode } from './types.js';
import { publish, within } from './events.js';
import { codeOf, errnoError } from '../util/errno.js';

export interface LocalioServerOptions {
  gate: FhGate;
  /** Answer rendezvous sockets of other processes (needs the native addon). Default true. */
  crossProcess?: boolean;
  /** Rendezvous directory (default: NFS_LOCALIO_RENDEZVOUS, else /run/nfs-localio or $TMPDIR/nfs-localio). */
  rendezvous?: string;
  /** How long a client may take to complete the handshake on its socket. Default 2 s. */
  handshakeTimeoutMs?: number;
  /** How long close() / an unexport waits for clients to give descriptors back. Default 750 ms. */
  invalidateTimeoutMs?: number;
}

export interface LocalioServerCounters {
  probes: number;
  binds: number;
  misses: number;
  opens: number;
  openErrors: number;
  invalidations: number;
  unbinds: number;
}

export interface LocalioBindingStatus {
  id: number;
  kind: 'in-process' | 'unix';
  address: string;
  port: number;
  authFlavor: string;
  uid?: number;
  since: string;
  /** Client process (unix channels: from SO_PEERCRED). */
  pid?: number;
  processUid?: number;
  openFiles: number;
  opens: number;
  /** The client's own counters (local vs wire I/O, fallbacks), as it last reported them. */
  report?: ClientReport;
}

export interface LocalioServerStatus {
  /** Local vs wire I/O and fallbacks summed over every client ever bound (departed ones included). */
  io: ClientReport;
  enabled: boolean;
  crossProcess: boolean;
  crossProcessReason?: string;
  instance: string;
  clients: LocalioBindingStatus[];
  counters: LocalioServerCounters;
}

interface ServedFile {
  lf: LocalFd;
  exportId: number;
}

let nextBindingId = 1;
/** Opens a unix client may have in flight at once (a real client has one per file being opened). */
const MAX_PENDING_OPENS = 256;

/** One bound client. */
class Binding {
  readonly id = nextBindingId++;
  readonly since = new Date();
  readonly files = new Map<number, ServedFile>();
  opens = 0;
  pendingOpens = 0;
  closed = false;
  /** Ask the client to close its descriptors (of one export, or all); resolves when it did. */
  invalidate: (exportId: number | undefined, reason: string) => Promise<void> = async () => undefined;
  /** Tear the binding down for good (the client is told, or its channel closed). */
  teardown: (reason: string) => void = () => undefined;
  /** The client's counters: read live in-process, last pushed across processes. */
  report: () => ClientReport | undefined = () => undefined;

  constructor(
    readonly kind: 'in-process' | 'unix',
    readonly peer: Peer,
    readonly cred: Credential,
    readonly pid?: number,
    readonly processUid?: number,
  ) {}

  status(): LocalioBindingStatus {
    return {
      id: this.id,
      kind: this.kind,
      address: this.peer.address,
      port: this.peer.port,
      authFlavor: this.cred.flavor === 'sys' ? 'AUTH_SYS' : 'AUTH_NONE',
      uid: this.cred.flavor === 'sys' ? this.cred.uid : undefined,
      since: this.since.toISOString(),
      pid: this.pid,
      processUid: this.processUid,
      openFiles: this.files.size,
      opens: this.opens,
      report: this.report(),
    };
  }

  /**
   * Drop the server's references on files (all, or of one export) — for a
   * unix client only: it holds its own copies, so the server's reference can
   * go whatever the client does. An in-process client shares the server's
   * descriptor; dropping its reference under a local I/O still in flight
   * would let the number be closed and reused under that I/O. Its references
   * go when it releases them, after its I/O (the descriptor cache closes a
   * descriptor only when the last reference is gone, even after the backend
   * is closed).
   */
  releaseFiles(exportId?: number): void {
    if (this.kind === 'in-process') return;
    for (const [id, f] of this.files) {
      if (exportId !== undefined && f.exportId !== exportId) continue;
      this.files.delete(id);
      void f.lf.close();
    }
  }
}

function zeroIo(): IoCounts {
  return { reads: 0, writes: 0, commits: 0, bytesRead: 0, bytesWritten: 0 };
}

function addReport(into: ClientReport, r: ClientReport | undefined): void {
  if (!r) return;
  for (const side of ['local', 'wire'] as const) {
    const a = into[side];
    const b = r[side];
    a.reads += b.reads;
    a.writes += b.writes;
    a.commits += b.commits;
    a.bytesRead += b.bytesRead;
    a.bytesWritten += b.bytesWritten;
  }
  into.fallbacks += r.fallbacks;
}

export class LocalioServer {
  /** Unique per server start: a restarted server is another instance and every binding to the old one is gone. */
  readonly instance = randomBytes(8).toString('hex');
  readonly counters: LocalioServerCounters = { probes: 0, binds: 0, misses: 0, opens: 0, openErrors: 0, invalidations: 0, unbinds: 0 };
  private readonly ref = new ServeRef();
  private readonly bindings = new Set<Binding>();
  private readonly crossProcess: boolean;
  private readonly crossProcessReason?: string;
  private closing?: Promise<void>;
  /** Counters of clients no longer bound, so the totals only grow. */
  private readonly departed: ClientReport = { local: zeroIo(), wire: zeroIo(), fallbacks: 0 };

  constructor(private readonly opts: LocalioServerOptions) {
    let cross = opts.crossProcess ?? true;
    let reason: string | undefined = cross ? undefined : 'disabled by option';
    if (cross) {
      const nat = loadFdPass();
      if (!nat.native) {
        cross = false;
        reason = nat.reason;
        log.warn('localio.cross_process.off', { reason: nat.reason });
      }
    }
    this.crossProcess = cross;
    this.crossProcessReason = reason;
  }

  /** Program 400122 for the RPC server. */
  program(): RpcProgram {
    return createLocalioProgram({ uuidIsLocal: (uuid, ctx) => this.uuidIsLocal(uuid, ctx) });
  }

  status(): LocalioServerStatus {
    const io: ClientReport = { local: { ...this.departed.local }, wire: { ...this.departed.wire }, fallbacks: this.departed.fallbacks };
    for (const b of this.bindings) addReport(io, b.report());
    return {
      io,
      enabled: this.ref.live,
      crossProcess: this.crossProcess,
      crossProcessReason: this.crossProcessReason,
      instance: this.instance,
      clients: [...this.bindings].map((b) => b.status()),
      counters: { ...this.counters },
    };
  }

  /** UUID_IS_LOCAL: bind the client that registered `uuid`, if it is on this host. Completes before the reply. */
  async uuidIsLocal(uuid: Buffer, ctx: CallContext): Promise<void> {
    this.counters.probes++;
    if (!this.ref.live) return;
    const probe = takeNonce(uuid);
    if (probe) return this.bindInProcess(probe, ctx);
    if (this.crossProcess) {
      const p = findSocket(uuid, this.opts.rendezvous);
      if (p) return this.bindUnix(p, ctx);
    }
    this.counters.misses++;
    publish('server', 'miss', { address: ctx.peer.address });
  }

  private added(b: Binding): void {
    this.bindings.add(b);
    this.counters.binds++;
    log.info('localio.client.bound', { id: b.id, kind: b.kind, address: b.peer.address, pid: b.pid });
    publish('server', 'bind', { id: b.id, kind: b.kind, address: b.peer.address });
  }

  private unbind(b: Binding, reason: string): void {
    if (b.closed) return;
    b.closed = true;
    addReport(this.departed, b.report());
    this.bindings.delete(b);
    b.releaseFiles();
    this.counters.unbinds++;
    log.info('localio.client.unbound', { id: b.id, kind: b.kind, reason });
    publish('server', 'unbind', { id: b.id, reason });
    b.teardown(reason);
  }

  private bindInProcess(probe: InProcessProbe, ctx: CallContext): void {
    const b = new Binding('in-process', ctx.peer, ctx.cred, process.pid, process.getuid?.());
    let nextId = 1;
    const server: InProcessServer = {
      v: 1,
      instance: this.instance,
      open: async (fh, cred, mode) => {
        if (b.closed) throw errnoError('ENXIO', 'LOCALIO binding closed');
        const f = await this.open(b, fh, cred, mode);
        if (b.closed) {
          void f.lf.close();
          throw errnoError('ENXIO', 'LOCALIO binding closed');
        }
        const id = nextId++;
        b.files.set(id, f);
        let released = false;
        return {
          fd: f.lf.fd,
          exportId: f.exportId,
          release: () => {
            if (released) return;
            released = true;
            if (b.files.get(id) === f) {
              b.files.delete(id);
              void f.lf.close();
            }
          },
        };
      },
      tryGet: () => !b.closed && this.ref.tryGet(),
      put: () => this.ref.put(),
      detach: () => this.unbind(b, 'client detached'),
    };
    const target = probe.claim(server);
    if (!target) return;
    b.invalidate = (exportId, reason) => target.invalidate(exportId, reason);
    b.teardown = (reason) => target.lost(reason);
    b.report = () => target.report?.();
    this.added(b);
  }

  private async bindUnix(sockPath: string, ctx: CallContext): Promise<void> {
    const native = loadFdPass().native!;
    let ch: SeqpacketChannel;
    try {
      ch = SeqpacketChannel.connect(native, sockPath, 1000);
    } catch (e) {
      if (codeOf(e) === 'ECONNREFUSED') {
        // A socket nobody listens on: left by a client that crashed mid-probe.
        try {
          fs.unlinkSync(sockPath);
          log.info('localio.rendezvous.stale_removed', { path: sockPath });
        } catch {
          // not ours to remove
        }
      }
      this.counters.misses++;
      return;
    }
    const b = new Binding('unix', ctx.peer, ctx.cred, ch.peer.pid, ch.peer.uid);
    let seq = 0;
    const acks = new Map<number, () => void>();
    let bound = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log.warn('localio.handshake.timeout', { path: sockPath });
        ch.close();
        resolve();
      }, this.opts.handshakeTimeoutMs ?? 2000);
      timer.unref();
      ch.onMessage = (data, fds) => {
        for (const fd of fds) fs.close(fd, () => undefined); // clients never send descriptors
        let m: ChannelMsg;
        try {
          m = decodeMsg(data);
        } catch (e) {
          log.warn('localio.channel.bad_message', { id: b.id, err: e as Error });
          ch.close();
          return;
        }
        if (!bound) {
          if (m.t !== 'welcome' || m.v !== CHANNEL_VERSION) {
            ch.close();
            return;
          }
          bound = true;
          clearTimeout(timer);
          this.added(b);
          resolve();
          return;
        }
        this.onClientMessage(b, ch, m, acks);
      };
      ch.onClose = () => {
        clearTimeout(timer);
        for (const a of acks.values()) a();
        acks.clear();
        if (bound) this.unbind(b, 'channel closed');
        resolve();
      };
      ch.start();
      try {
        ch.send(encodeMsg({ t: 'hello', v: CHANNEL_VERSION, instance: this.instance, pid: process.pid }));
      } catch {
        ch.close();
      }
    });
    if (!bound) {
      this.counters.misses++;
      return;
    }
    b.invalidate = (exportId, reason) =>
      new Promise<void>((resolve) => {
        if (ch.closed) return resolve();
        const s = ++seq;
        acks.set(s, resolve);
        try {
          ch.send(encodeMsg({ t: 'invalidate', seq: s, exportId, reason }));
        } catch {
          acks.delete(s);
          resolve();
        }
      });
    b.teardown = () => ch.close();
  }

  private onClientMessage(b: Binding, ch: SeqpacketChannel, m: ChannelMsg, acks: Map<number, () => void>): void {
    switch (m.t) {
      case 'open': {
        // A reused id, or a client flooding opens faster than they complete, loses its channel.
        if (b.files.has(m.id) || b.pendingOpens >= MAX_PENDING_OPENS) {
          log.warn('localio.channel.abuse', { id: b.id, reason: b.pendingOpens >= MAX_PENDING_OPENS ? 'too many opens in flight' : 'open id reused' });
          ch.close();
          return;
        }
        b.pendingOpens++;
        this.open(b, m.fh, m.cred, m.mode).finally(() => b.pendingOpens--).then(
          (f) => {
            if (ch.closed || b.closed) {
              void f.lf.close();
              return;
            }
            try {
              ch.send(encodeMsg({ t: 'opened', id: m.id, exportId: f.exportId }), [f.lf.fd]);
              b.files.set(m.id, f);
            } catch {
              void f.lf.close();
              ch.close();
            }
          },
          (e: Error) => {
            if (ch.closed) return;
            try {
              ch.send(encodeMsg({ t: 'error', id: m.id, code: codeOf(e) ?? 'EIO', message: String(e.message).slice(0, 200) }));
            } catch {
              ch.close();
            }
          },
        );
        return;
      }
      case 'release': {
        const f = b.files.get(m.id);
        if (f) {
          b.files.delete(m.id);
          void f.lf.close();
        }
        return;
      }
      case 'stats': {
        const r: ClientReport = { local: m.local, wire: m.wire, fallbacks: m.fallbacks };
        b.report = () => r;
        return;
      }
      case 'invalidated': {
        const a = acks.get(m.seq);
        acks.delete(m.seq);
        a?.();
        return;
      }
      default:
        // a client speaking the server's half of the protocol
        ch.close();
    }
  }

  /** The local open: the wire's gate, then the backend's descriptor. Rejects with an errno-coded Error. */
  private async open(b: Binding, fh: Buffer, cred: LocalCred, mode: LocalMode): Promise<ServedFile> {
    if (!this.ref.tryGet()) throw errnoError('ENXIO', 'the server is shutting down');
    try {
      const caller = { peer: b.peer, cred: { flavor: 'sys' as const, stamp: 0, machine: 'localio', uid: cred.uid, gid: cred.gid, gids: cred.gids.slice(0, 16) } };
      const v = await this.opts.gate.verify(fh, caller, { type: 'reg', may: mode === 'rw' ? May.READ | May.WRITE : May.READ });
      const backend = v.export.backend;
      if (!backend.localFd || !backend.openFd) throw errnoError('EOPNOTSUPP', `the ${backend.kind} backend cannot hand out descriptors`);
      // The client writes through this descriptor with its own process's credentials, which may
      // hold CAP_FSETID where the NFS caller does not: drop the set-id bits now, as the first
      // write over the wire would (file_remove_privs). A client process without it (the usual
      // case) also has them dropped by its own kernel on each write.
      const kept = mode === 'rw' ? modeBeforeWrite(v.attrs, v.identity) : undefined;
      if (kept !== undefined) await backend.setattr(v.node, { mode: kept });
      const lf = await backend.openFd(v.node, mode);
      this.counters.opens++;
      b.opens++;
      publish('server', 'open', { id: b.id, mode, exportId: v.export.id });
      return { lf, exportId: v.export.id };
    } catch (e) {
      this.counters.openErrors++;
      publish('server', 'open_error', { id: b.id, code: codeOf(e) });
      throw e;
    } finally {
      this.ref.put();
    }
  }

  /** Ask every client to close its descriptors of one export (unexport); bounded. */
  async invalidateExport(exportId: number, reason = 'export removed'): Promise<void> {
    await this.invalidateAll(exportId, reason);
  }

  private async invalidateAll(exportId: number | undefined, reason: string): Promise<void> {
    const bs = [...this.bindings];
    if (bs.length === 0) return;
    this.counters.invalidations++;
    publish('server', 'invalidate', { exportId, reason, clients: bs.length });
    log.info('localio.invalidate', { export: exportId, reason, clients: bs.length });
    const bound = this.opts.invalidateTimeoutMs ?? 750;
    await Promise.all(
      bs.map(async (b) => {
        const ok = await within(b.invalidate(exportId, reason), bound);
        if (!ok) log.warn('localio.invalidate.timeout', { id: b.id, waitedMs: bound });
        // Whatever the client did, the server lets go of its references now.
        b.releaseFiles(exportId);
      }),
    );
  }

  /**
   * Shut LOCALIO down first in the server's close(): kill the serve
   * reference (new local opens fail with ENXIO), invalidate every client,
   * wait (bounded) for in-flight local I/O, then drop every binding.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ref.kill();
      await this.invalidateAll(undefined, 'server shutting down');
      const drained = await this.ref.drain(this.opts.invalidateTimeoutMs ?? 750);
      if (!drained) log.warn('localio.close.undrained', { held: this.ref.held });
      for (const b of [...this.bindings]) this.unbind(b, 'server closed');
    })();
    return this.closing;
  }
}
