/**
 * connect(): pick the version (asked for, or 4.2, 4.1, then 3 as mount.nfs
 * does), then for v3 find the ports (URL, else the portmapper), MOUNT the
 * export and ask FSINFO for the transfer sizes; v4 is v4/connect4.ts.
 */
import { AUTH_NONE_VERF } from '../rpc/auth.js';
import { NFS3_PROGRAM, NFS3_VERSION } from '../nfs3/constants.js';
import { MOUNT_PROGRAM, MOUNT_V3 } from '../mount/constants.js';
import { PMAP_PROGRAM, IPPROTO_TCP } from '../portmap/program.js';
import type { ExportNode } from '../mount/types.js';
import { NfsClient } from './client.js';
import { NfsError, errnoCodeOf } from './errors.js';
import { parseNfsUrl, resolveOptions, type ConnectOptions, type ParsedNfsUrl, type ResolvedOptions } from './options.js';
import { Channel, MountRaw, Nfs3Raw, type Caller } from './raw.js';
import { RpcTransport, XidSource } from './transport.js';
import { credential, localioFor, transport } from './dial.js';
import { connect4 } from './v4/connect4.js';
import { components } from './util.js';

/** PMAP v2 GETPORT (RFC 1833): the TCP port of (prog, vers), 0 when not registered. */
async function getPort(t: RpcTransport, prog: number, vers: number): Promise<number> {
  const rep = await t.call(PMAP_PROGRAM, 2, 3, AUTH_NONE_VERF, (w) => void w.uint32(prog).uint32(vers).uint32(IPPROTO_TCP).uint32(0), 16, 'portmap');
  return rep.reader.uint32();
}

function isUnder(dir: string, full: string): boolean {
  const d = '/' + components(dir).join('/');
  return d === '/' || full === d || full.startsWith(d + '/');
}

function mountError(status: number, path: string): NfsError {
  // mountstat3 values are the errno numbers (and NOTSUPP/SERVERFAULT the nfsstat3 ones)
  return new NfsError(errnoCodeOf(status), { syscall: 'mount', path, description: `the server refused to mount (mountstat3 ${status})` });
}

/** Why an NFSv4 attempt gives way to the next version (mount.nfs's fallbacks): the server does not speak it, or not there. */
function fallsBack(e: unknown): boolean {
  if (!(e instanceof NfsError)) return false;
  if (e.rpcStatus === 'PROG_MISMATCH' || e.rpcStatus === 'PROG_UNAVAIL') return true;
  // A minor version the server lacks; no server on the v4 port; an export only v3 reaches (mount.nfs also tries v3 on ENOENT).
  return e.code === 'EPROTONOSUPPORT' || e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EPROTO';
}

/**
 * Connect to an NFS export.
 *
 *   const nfs = await connect('nfs://127.0.0.1/srv/x?nfsport=2049&mountport=2049');
 *   await nfs.writeFile('hello.txt', 'hi');
 *   await nfs.close();
 *
 * `version` (option or URL) picks NFSv3, 4.1 or 4.2; by default ('auto') 4.2 is tried, then 4.1,
 * then 3, as mount.nfs does; `client.version` says which. `options` (with a URL) overrides what the
 * URL says.
 */
export async function connect(target: string | ConnectOptions, options: Partial<ConnectOptions> = {}): Promise<NfsClient> {
  const given: ParsedNfsUrl = typeof target === 'string' ? { ...parseNfsUrl(target), ...options } : { path: '/', ...target, ...options };
  if (!given.host) throw new TypeError('connect: a host is required');
  const o = resolveOptions(given);
  if (o.version === 3) return connect3(given, o);
  if (o.version === 4.1 || o.version === 4.2) return connect4(given, o, o.version === 4.2 ? 2 : 1);
  try {
    return await connect4(given, o, 2);
  } catch (e) {
    if (!fallsBack(e)) throw e;
    if (!(e instanceof NfsError && e.code === 'EPROTONOSUPPORT' && !e.rpcStatus)) {
      // The server does not speak v4 at all (or not here).
      if (o.version === 4) throw e;
      return connect3(given, o);
    }
  }
  try {
    return await connect4(given, o, 1);
  } catch (e) {
    if (o.version === 4 || !fallsBack(e)) throw e;
    return connect3(given, o);
  }
}

/** NFSv3: ports, MOUNT, FSINFO. */
async function connect3(given: ParsedNfsUrl, o: ResolvedOptions): Promise<NfsClient> {
  const xids = new XidSource();
  const cred = credential(o);
  const full = '/' + components(given.path ?? '/').join('/');

  // ---- ports
  let nfsPort = given.nfsPort;
  let mountPort = given.mountPort;
  if (nfsPort === undefined || mountPort === undefined) {
    const pmPort = given.urlPort ?? given.portmapPort ?? 111;
    const pm = transport(o, xids, pmPort, 'portmap', { mode: 'soft', retrans: 1, timeout: Math.min(o.timeout, 10_000) });
    try {
      await pm.connect();
      if (nfsPort === undefined) nfsPort = (await getPort(pm, NFS3_PROGRAM, NFS3_VERSION)) || undefined;
      if (mountPort === undefined) mountPort = (await getPort(pm, MOUNT_PROGRAM, MOUNT_V3)) || undefined;
    } catch (err) {
      // A URL port that is not a portmapper is taken as the port NFS and MOUNT are served on.
      if (given.urlPort === undefined) {
        throw err instanceof NfsError ? err.withContext('portmap', `${o.host}:${pmPort}`) : err;
      }
    } finally {
      pm.close();
    }
    nfsPort ??= given.urlPort;
    mountPort ??= given.urlPort;
    if (!nfsPort || !mountPort) {
      throw new NfsError('EPROTONOSUPPORT', {
        syscall: 'portmap',
        path: `${o.host}:${pmPort}`,
        description: `${nfsPort ? 'MOUNT v3' : 'NFS v3'} over TCP is not registered with the portmapper`,
      });
    }
  }

  // ---- connections
  const nfsTs = Array.from({ length: o.connections }, () => transport(o, xids, nfsPort!, 'nfs'));
  const closeAll = () => nfsTs.forEach((t) => t.close());
  try {
    await nfsTs[0].connect();
  } catch (err) {
    closeAll();
    throw err;
  }
  // MOUNT calls never hang a connect(): soft, whatever the NFS mode.
  const mountT = () => transport(o, xids, mountPort!, 'mount', { mode: 'soft' });
  let mt = mountPort === nfsPort ? nfsTs[0] : mountT();
  /** MOUNT calls after connect(): on the NFS connection when the ports are shared, else on a short-lived connection each. */
  const mountCaller: Caller =
    mountPort === nfsPort
      ? new Channel([nfsTs[0]], MOUNT_PROGRAM, MOUNT_V3, () => cred).call
      : async (proc, enc, hint, label) => {
          const own = mountT();
          try {
            await own.connect();
            return await new Channel([own], MOUNT_PROGRAM, MOUNT_V3, () => cred).call(proc, enc, hint, label);
          } finally {
            own.close();
          }
        };

  let exportPath: string | undefined;
  let root: Buffer | undefined;
  try {
    if (mt !== nfsTs[0]) await mt.connect();
    const mount = new MountRaw(new Channel([mt], MOUNT_PROGRAM, MOUNT_V3, () => cred).call);
    const tried = new Set<string>();
    let lastErr: NfsError | undefined;
    const tryMount = async (p: string): Promise<boolean> => {
      if (tried.has(p)) return false;
      tried.add(p);
      const r = await mount.mnt(p);
      if (r.status === 0) {
        exportPath = p;
        root = Buffer.from(r.fhandle);
        return true;
      }
      lastErr = mountError(r.status, p);
      return false;
    };
    if (given.export !== undefined) {
      const e = '/' + components(given.export).join('/');
      if (!(await tryMount(e))) throw lastErr!;
    } else {
      // the longest exported directory that holds the path, then the path's own prefixes, longest first
      let list: ExportNode[] = [];
      try {
        list = await mount.export();
      } catch {
        list = [];
      }
      const cands = list.map((e) => '/' + components(e.dir).join('/')).filter((d) => isUnder(d, full));
      cands.sort((a, b) => b.length - a.length);
      const comps = components(full);
      for (let i = comps.length; i >= 1; i--) cands.push('/' + comps.slice(0, i).join('/'));
      cands.push('/');
      for (const c of cands) if (await tryMount(c)) break;
      if (!root) throw lastErr ?? new NfsError('ENOENT', { syscall: 'mount', path: full });
    }
  } catch (err) {
    if (mt !== nfsTs[0]) mt.close();
    closeAll();
    throw err;
  }
  if (mt !== nfsTs[0]) mt.close();
  mt = nfsTs[0];

  const channel = new Channel(nfsTs, NFS3_PROGRAM, NFS3_VERSION, () => cred);
  const raw = new Nfs3Raw(channel.call);
  const nfs = new Nfs3Raw(channel.call, { retryJukebox: true, jukeboxTries: o.mode === 'soft' ? o.retrans * 4 : undefined });
  try {
    await Promise.all(nfsTs.slice(1).map((t) => t.connect()));
    const fsinfo = await nfs.fsinfo(root!);
    if (fsinfo.status !== 0) throw new NfsError(errnoCodeOf(fsinfo.status), { syscall: 'fsinfo', path: exportPath, nfsstat3: fsinfo.status });
    const ep = exportPath!;
    const inner = isUnder(ep, full) ? full.slice(ep === '/' ? 0 : ep.length) || '/' : '/';
    const localio = localioFor(o, nfsTs[0], cred, `${o.host}:${nfsPort}`);
    for (const t of nfsTs) t.onReconnect = () => localio.reconnected();
    const client = new NfsClient({
      version: 3,
      localio,
      opts: o,
      host: o.host,
      nfsPort: nfsPort!,
      mountPort: mountPort!,
      exportPath: ep,
      cwd: inner,
      root: root!,
      fsinfo,
      nfs,
      raw,
      mount: new MountRaw(mountCaller),
      transports: nfsTs,
      listExports: () => new MountRaw(mountCaller).export(),
      umount: async () => {
        const own = transport(o, xids, mountPort!, 'umount', { mode: 'soft', retrans: 1, timeout: 2000 });
        try {
          await own.connect();
          await new MountRaw(new Channel([own], MOUNT_PROGRAM, MOUNT_V3, () => cred).call).umnt(ep);
        } finally {
          own.close();
        }
      },
    });
    // In the background: I/O goes over the wire until (and unless) the probe binds us.
    localio.probe('mount');
    return client;
  } catch (err) {
    closeAll();
    throw err;
  }
}

/** MOUNT EXPORT of a server without mounting anything: `listExports('nfs://host')`. */
export async function listExports(target: string | ConnectOptions, options: Partial<ConnectOptions> = {}): Promise<ExportNode[]> {
  const given: ParsedNfsUrl = typeof target === 'string' ? { ...parseNfsUrl(target), ...options } : { path: '/', ...target, ...options };
  const o = resolveOptions(given);
  const xids = new XidSource();
  let mountPort = given.mountPort;
  if (mountPort === undefined) {
    const pmPort = given.urlPort ?? given.portmapPort ?? 111;
    const pm = transport(o, xids, pmPort, 'portmap', { mode: 'soft', retrans: 1, timeout: Math.min(o.timeout, 10_000) });
    try {
      await pm.connect();
      mountPort = (await getPort(pm, MOUNT_PROGRAM, MOUNT_V3)) || undefined;
    } catch (err) {
      if (given.urlPort === undefined) throw err instanceof NfsError ? err.withContext('portmap', `${o.host}:${pmPort}`) : err;
    } finally {
      pm.close();
    }
    mountPort ??= given.urlPort ?? given.nfsPort;
    if (!mountPort) throw new NfsError('EPROTONOSUPPORT', { syscall: 'portmap', description: 'MOUNT v3 over TCP is not registered with the portmapper' });
  }
  const t = transport(o, xids, mountPort, 'mount', { mode: 'soft' });
  try {
    await t.connect();
    return await new MountRaw(new Channel([t], MOUNT_PROGRAM, MOUNT_V3, () => credential(o)).call).export();
  } finally {
    t.close();
  }
}
