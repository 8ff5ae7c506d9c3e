/**
 * Client options and libnfs-style URLs:
 *
 *   nfs://HOST[:PORT]/EXPORT[/PATH][?version=3&nfsport=N&mountport=N&uid=N&gid=N&...]
 *
 * `version` is 3, 4.1, 4.2, 4 (4.2, else 4.1) or auto (the default: 4.2,
 * then 4.1, then 3, as mount.nfs tries them). NFSv4 needs only the NFS port
 * (`nfsport`, else PORT, else 2049): no MOUNT, no portmapper; the path is
 * walked from the server's pseudo-root.
 *
 * HOST is a name, an IPv4 literal or a bracketed IPv6 literal. Without
 * `nfsport`/`mountport` the ports come from the server's portmapper (PMAP
 * GETPORT) on port 111, or on PORT when the URL has one; a server that does
 * not answer the portmapper there is taken to serve NFS and MOUNT on PORT
 * itself. Which leading part of the path is the export is learnt from the
 * server (MOUNT EXPORT, else the longest path MNT accepts).
 *
 * Extra query arguments beyond libnfs's: auth=sys|none, gids=1,2,3,
 * machine=NAME, soft / hard, timeo (ms per try), retrans (tries in soft
 * mode), nconnect (connections), maxinflight, blocksize.
 */
import os from 'node:os';

export type MountMode = 'hard' | 'soft';

/** The protocol a client speaks (client.version). */
export type NfsVersion = 3 | 4.1 | 4.2;
/** What connect() may be asked for: a version, 4 (4.2 else 4.1), or 'auto' (4.2, 4.1, then 3). */
export type VersionOption = NfsVersion | 4 | 'auto' | '3' | '4' | '4.1' | '4.2';

export interface ConnectOptions {
  host: string;
  /** NFS version (default 'auto': 4.2, then 4.1, then 3, as mount.nfs). URL: version=3|4|4.1|4.2|auto. */
  version?: VersionOption;
  /** Export path as the server knows it (e.g. '/export'). Learnt from `path` when omitted. */
  export?: string;
  /**
   * Full server path (export plus a path inside it), as in a URL. Relative API
   * paths resolve against the part inside the export.
   */
  path?: string;
  /** NFS program port; from the portmapper when absent. */
  nfsPort?: number;
  /** MOUNT program port; from the portmapper when absent. */
  mountPort?: number;
  /** Where to ask the portmapper (default 111). */
  portmapPort?: number;
  /** 'sys' (default) or 'none'. */
  auth?: 'sys' | 'none';
  /** AUTH_SYS identity: the process's own by default, as libnfs does. */
  uid?: number;
  gid?: number;
  gids?: number[];
  machineName?: string;
  /** 'hard' (default): retry until the server answers. 'soft': fail with ETIMEDOUT after `retrans` tries. */
  mode?: MountMode;
  /** Milliseconds to wait for a reply before a try counts as timed out (default 30000). */
  timeout?: number;
  /** Tries in soft mode before ETIMEDOUT (default 3). */
  retrans?: number;
  /** Milliseconds to wait for the initial TCP connection (default 10000). */
  connectTimeout?: number;
  /** Calls in flight per connection (default 32). */
  maxInFlight?: number;
  /** TCP connections to the NFS port, used round-robin (default 1). */
  connections?: number;
  /** Largest READ/WRITE the client sends, capped by the server's rtmax/wtmax (default 1 MiB). */
  blockSize?: number;
  /** Uncommitted (UNSTABLE) bytes a file handle may hold before it COMMITs (default 64 MiB). */
  maxUncommitted?: number;
  /** Applied to the mode of created files and directories (default 0o022). */
  umask?: number;
  /** Send UMNT on close (default true). */
  umount?: boolean;
  /**
   * LOCALIO (default true): when the server runs on this host, READ, WRITE
   * and COMMIT go straight to descriptors the server opened for us. AUTH_SYS
   * mounts only. URL: localio=0|1.
   */
  localio?: boolean;
  /** LOCALIO rendezvous directory (default: NFS_LOCALIO_RENDEZVOUS, else /run/nfs-localio or $TMPDIR/nfs-localio). */
  localioRendezvous?: string;
  /** Close a LOCALIO descriptor unused this long, ms (default 30000). */
  localioIdleMs?: number;
  /**
   * NFSv4: the client owner (EXCHANGE_ID's co_ownerid). Default: one per connect(), made of the host
   * name, the process id and a random tag of this process start — the same for the client's whole life,
   * so the server knows it again after a restart and lets it reclaim its opens and locks.
   */
  clientOwner?: string;
  /**
   * NFSv4: send owners and groups as "name@DOMAIN" (names from this host's /etc/passwd and /etc/group)
   * and read names back the same way. Default: numbers ("1234"), as Linux does with AUTH_SYS. URL: idmapdomain=.
   */
  idmapDomain?: string;
}

/** What a URL says, before any network traffic. */
export interface ParsedNfsUrl extends ConnectOptions {
  host: string;
  path: string;
  /** Port given in the authority (nfs://HOST:PORT/...). */
  urlPort?: number;
}

function intParam(name: string, v: string, max = 0xffffffff): number {
  if (!/^\d+$/.test(v)) throw new TypeError(`nfs URL: ${name}=${v} is not a number`);
  const n = Number(v);
  if (n > max) throw new TypeError(`nfs URL: ${name}=${v} is out of range`);
  return n;
}

/** '3', '4', '4.1', '4.2', 'auto' (and the numbers) → a VersionOption; TypeError otherwise. */
export function parseVersion(v: string | number): VersionOption {
  const s = String(v).toLowerCase();
  if (s === '3' || s === '4' || s === '4.1' || s === '4.2') return Number(s) as VersionOption;
  if (s === 'auto') return 'auto';
  throw new TypeError(`nfs: version must be 3, 4, 4.1, 4.2 or auto (got ${v})`);
}

/** Parse an nfs:// URL. Throws TypeError (code ERR_INVALID_URL) on a malformed one. */
export function parseNfsUrl(url: string): ParsedNfsUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw Object.assign(new TypeError(`Invalid NFS URL: ${url}`), { code: 'ERR_INVALID_URL' });
  }
  if (u.protocol !== 'nfs:') throw Object.assign(new TypeError(`not an nfs:// URL: ${url}`), { code: 'ERR_INVALID_URL' });
  let host = u.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) throw Object.assign(new TypeError(`nfs URL without a host: ${url}`), { code: 'ERR_INVALID_URL' });
  const segs = u.pathname.split('/').filter((s) => s !== '');
  const path = '/' + segs.map((s) => decodeURIComponent(s)).join('/');
  const out: ParsedNfsUrl = { host, path };
  if (u.port) out.urlPort = intParam('port', u.port, 65535);
  for (const [k, v] of u.searchParams) {
    switch (k.toLowerCase()) {
      case 'version':
      case 'vers':
      case 'nfsvers':
        out.version = parseVersion(v);
        break;
      case 'idmapdomain':
        out.idmapDomain = v;
        break;
      case 'nfsport':
        out.nfsPort = intParam(k, v, 65535);
        break;
      case 'mountport':
        out.mountPort = intParam(k, v, 65535);
        break;
      case 'uid':
        out.uid = intParam(k, v);
        break;
      case 'gid':
        out.gid = intParam(k, v);
        break;
      case 'gids':
        out.gids = v === '' ? [] : v.split(',').map((g) => intParam(k, g));
        break;
      case 'machine':
        out.machineName = v;
        break;
      case 'auth':
        if (v !== 'sys' && v !== 'none') throw new TypeError(`nfs URL: auth must be sys or none (got ${v})`);
        out.auth = v;
        break;
      case 'sec':
        if (v !== 'sys' && v !== 'none') throw new TypeError(`nfs URL: sec must be sys or none (got ${v})`);
        out.auth = v;
        break;
      case 'soft':
        out.mode = 'soft';
        break;
      case 'hard':
        out.mode = 'hard';
        break;
      case 'timeo':
      case 'timeout':
        out.timeout = intParam(k, v);
        break;
      case 'retrans':
        out.retrans = intParam(k, v);
        break;
      case 'nconnect':
      case 'connections':
        out.connections = Math.max(1, Math.min(16, intParam(k, v)));
        break;
      case 'maxinflight':
        out.maxInFlight = Math.max(1, intParam(k, v));
        break;
      case 'blocksize':
        out.blockSize = Math.max(4096, intParam(k, v));
        break;
      case 'localio':
        if (!/^(0|1|on|off|true|false)$/.test(v)) throw new TypeError(`nfs URL: localio must be 0 or 1 (got ${v})`);
        out.localio = v === '1' || v === 'on' || v === 'true';
        break;
      default:
        // libnfs arguments we have no use for (readahead, pagecache, debug, ...) are ignored, as libnfs ignores unknown ones.
        break;
    }
  }
  return out;
}

export interface ResolvedOptions {
  host: string;
  version: 'auto' | 3 | 4 | 4.1 | 4.2;
  clientOwner?: string;
  idmapDomain?: string;
  auth: 'sys' | 'none';
  uid: number;
  gid: number;
  gids: number[];
  machineName: string;
  mode: MountMode;
  timeout: number;
  retrans: number;
  connectTimeout: number;
  maxInFlight: number;
  connections: number;
  blockSize: number;
  maxUncommitted: number;
  umask: number;
  umount: boolean;
  localio: boolean;
  localioRendezvous?: string;
  localioIdleMs: number;
}

export function resolveOptions(o: ConnectOptions): ResolvedOptions {
  const uid = o.uid ?? process.getuid?.() ?? 65534;
  const gid = o.gid ?? process.getgid?.() ?? 65534;
  let gids = o.gids;
  if (gids === undefined) {
    // The process's groups, as libnfs does; only when the uid is our own (an explicit uid= means someone else).
    gids = o.uid === undefined ? (process.getgroups?.() ?? []) : [gid];
  }
  const version = o.version === undefined ? 'auto' : parseVersion(o.version);
  return {
    host: o.host,
    version: version === 'auto' ? 'auto' : (Number(version) as 3 | 4 | 4.1 | 4.2),
    clientOwner: o.clientOwner,
    idmapDomain: o.idmapDomain,
    auth: o.auth ?? 'sys',
    uid,
    gid,
    gids: gids.slice(0, 16),
    machineName: o.machineName ?? os.hostname(),
    mode: o.mode ?? 'hard',
    timeout: o.timeout ?? 30_000,
    retrans: Math.max(1, o.retrans ?? 3),
    connectTimeout: o.connectTimeout ?? 10_000,
    maxInFlight: Math.max(1, o.maxInFlight ?? 32),
    connections: Math.max(1, o.connections ?? 1),
    blockSize: Math.max(4096, o.blockSize ?? 1024 * 1024),
    maxUncommitted: Math.max(1024 * 1024, o.maxUncommitted ?? 64 * 1024 * 1024),
    umask: o.umask ?? 0o022,
    umount: o.umount ?? true,
    localio: o.localio ?? true,
    localioRendezvous: o.localioRendezvous,
    localioIdleMs: Math.max(100, o.localioIdleMs ?? 30_000),
  };
}
