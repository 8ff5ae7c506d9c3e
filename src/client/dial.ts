/**
 * What every connect() needs whatever version it speaks: the AUTH_SYS (or
 * AUTH_NONE) credential of the mount, transports configured from the
 * options, and the LOCALIO client, whose probe is a plain RPC of program
 * 400122 on the NFS connection (v3 or v4 alike).
 */
import { AuthFlavor, encodeAuthSys, AUTH_NONE_VERF, type OpaqueAuth } from '../rpc/auth.js';
import { LocalioClient } from '../localio/client.js';
import { LOCALIO_PROGRAM, LOCALIO_V1 } from '../localio/constants.js';
import type { ResolvedOptions } from './options.js';
import { RpcTransport, type XidSource } from './transport.js';

export function credential(o: ResolvedOptions): OpaqueAuth {
  if (o.auth === 'none') return AUTH_NONE_VERF;
  const stamp = Math.floor(Date.now() / 1000) >>> 0;
  return { flavor: AuthFlavor.SYS, body: encodeAuthSys({ stamp, machine: o.machineName, uid: o.uid, gid: o.gid, gids: o.gids }) };
}

export function transport(o: ResolvedOptions, xids: XidSource, port: number, label: string, over: Partial<{ mode: 'soft' | 'hard'; timeout: number; retrans: number; maxRecord: number; disconnectOnTimeout: boolean }> = {}): RpcTransport {
  return new RpcTransport({
    host: o.host,
    port,
    mode: over.mode ?? o.mode,
    timeout: over.timeout ?? o.timeout,
    retrans: over.retrans ?? o.retrans,
    connectTimeout: o.connectTimeout,
    maxInFlight: o.maxInFlight,
    maxRecord: over.maxRecord ?? Math.max(4 << 20, o.blockSize + (1 << 20)),
    xids,
    label,
    poolRecordSize: o.blockSize + 4096,
    disconnectOnTimeout: over.disconnectOnTimeout,
  });
}


/** The LOCALIO client of a mount: probes with the mount's credential on `t`, the (first) NFS connection. */
export function localioFor(o: ResolvedOptions, t: RpcTransport, cred: OpaqueAuth, label: string): LocalioClient {
  const localio = new LocalioClient({
    enabled: o.localio,
    cred: o.auth === 'sys' ? { uid: o.uid, gid: o.gid, gids: o.gids } : undefined,
    rendezvous: o.localioRendezvous,
    idleMs: o.localioIdleMs,
    label,
    // With the mount's credential, on the NFS connection (the server binds that connection's identity).
    call: async (proc, args) => {
      // Soft whatever the mount: a probe must never hang around (or keep the process alive) for a server that is gone.
      await t.call(LOCALIO_PROGRAM, LOCALIO_V1, proc, cred, args ? (w) => void w.fixedOpaque(args) : undefined, 16, proc === 0 ? 'localio.null' : 'localio.uuid_is_local', 10_000);
    },
    connected: () => t.isConnected,
  });
  return localio;
}
