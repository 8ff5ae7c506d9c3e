/**
 * connect() for NFSv4.1 / 4.2: one port (no MOUNT, no portmapper), a
 * session (session.ts), then the URL's path walked from the pseudo-root
 * with PUTROOTFH and LOOKUPs, as Linux mounts a v4 path. The export is
 * where the walk last entered another file system (the fsid changes at an
 * export's root in the pseudo-fs of knfsd and nfs-ganesha): relative paths
 * resolve against the rest of the URL's path, as on v3, where MOUNT says
 * where the export is. A server without pseudo-fs (the path's fsid never
 * changes) exports '/'.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Attr4, Nfs4Op, Nfs4Stat } from '../../nfs4/constants.js';
import { bitmap4 } from '../../nfs4/codec/bitmap.js';
import { nfs4Limits } from '../../nfs4/codec/limits.js';
import type { Nfs4ArgOp } from '../../nfs4/types.js';
import { MOUNT_PROGRAM, MOUNT_V3 } from '../../mount/constants.js';
import { NfsClient } from '../client.js';
import { NfsError } from '../errors.js';
import type { ParsedNfsUrl, ResolvedOptions } from '../options.js';
import { Channel, MountRaw, type Caller } from '../raw.js';
import { XidSource, type RpcTransport } from '../transport.js';
import { components } from '../util.js';
import { credential, localioFor, transport } from '../dial.js';
import { IdMap } from './attrs.js';
import { Nfs4Driver } from './client4.js';
import { Nfs4Fs } from './fs.js';
import { Nfs4Session, PROCESS_VERIFIER, type Reply4 } from './session.js';
import { Nfs4State } from './state.js';
import { nfs4Error } from './status.js';

/** RPC and COMPOUND headers, SEQUENCE, PUTFH and the READ/WRITE op around the data: well under this. */
const HEADROOM = 8192;
const PROCESS_TAG = randomBytes(4).toString('hex');
let clients = 0;

/** A new client owner: host, process, this process start, and a count (each connect() is its own client). */
function defaultOwner(): string {
  return `nfs-localio/${os.hostname()}/${process.pid}/${PROCESS_TAG}/${++clients}`;
}

interface Step {
  name: string;
  fh: Buffer;
  fsid: string;
}

/**
 * Walk `comps` from `start` (undefined: the pseudo-root), four LOOKUPs per COMPOUND. With `partial`, a
 * missing component ends the walk (the steps so far, and the status that ended it) instead of throwing.
 */
async function walkFrom(s: Nfs4Session, start: Buffer | undefined, comps: string[], path: string, partial = false): Promise<{ root: Step; steps: Step[]; missing?: number }> {
  const want = bitmap4(Attr4.FSID, Attr4.LEASE_TIME);
  const pick = (r: Reply4, from: number): Step | undefined => {
    const fh = r.results[from];
    const ga = r.results[from + 1];
    if (fh?.op !== Nfs4Op.GETFH || fh.res.status !== 0 || ga?.op !== Nfs4Op.GETATTR || ga.res.status !== 0) return undefined;
    const v = ga.res.attrs.values;
    if (v.leaseTime) s.setLease(v.leaseTime);
    return { name: '', fh: fh.res.object, fsid: `${v.fsid?.major}:${v.fsid?.minor}` };
  };
  const first = await s.compound(() => [start ? { op: Nfs4Op.PUTFH, args: { object: start } } : { op: Nfs4Op.PUTROOTFH, args: undefined }, { op: Nfs4Op.GETFH, args: undefined }, { op: Nfs4Op.GETATTR, args: { attrRequest: want } }], { label: 'mount' });
  const root = pick(first, 1);
  if (!root) throw nfs4Error(first.status || Nfs4Stat.SERVERFAULT, 'mount', '/');
  const steps: Step[] = [];
  for (let i = 0; i < comps.length; i += 4) {
    const part = comps.slice(i, i + 4);
    const from = steps.length ? steps[steps.length - 1].fh : root.fh;
    const ops: Nfs4ArgOp[] = [{ op: Nfs4Op.PUTFH, args: { object: from } }];
    for (const c of part) ops.push({ op: Nfs4Op.LOOKUP, args: { objname: c } }, { op: Nfs4Op.GETFH, args: undefined }, { op: Nfs4Op.GETATTR, args: { attrRequest: want } });
    const r = await s.compound(() => ops, { label: 'mount' });
    for (let j = 0; j < part.length; j++) {
      const st = pick(r, 2 + j * 3);
      if (!st && partial && r.status === Nfs4Stat.NOENT) return { root, steps, missing: r.status };
      if (!st) throw nfs4Error(r.status || Nfs4Stat.SERVERFAULT, 'mount', path);
      st.name = part[j];
      steps.push(st);
    }
  }
  return { root, steps };
}

export async function connect4(given: ParsedNfsUrl, o: ResolvedOptions, minor: 1 | 2): Promise<NfsClient> {
  const xids = new XidSource();
  const cred = credential(o);
  const port = given.nfsPort ?? given.urlPort ?? 2049;
  const full = '/' + components(given.path ?? '/').join('/');
  const label = `${o.host}:${port}`;
  // v4 never retransmits on the same connection: a timeout drops it, and the calls go again on a new one.
  const ts = Array.from({ length: o.connections }, () => transport(o, xids, port, 'nfs', { disconnectOnTimeout: true, maxRecord: o.blockSize + (1 << 20) }));
  const closeAll = () => ts.forEach((t) => t.close());
  const session = new Nfs4Session({
    transports: ts,
    cred,
    minor,
    owner: Buffer.from(o.clientOwner ?? defaultOwner()),
    verifier: PROCESS_VERIFIER,
    maxRequests: Math.min(1024, o.maxInFlight * o.connections),
    maxRequestSize: o.blockSize + HEADROOM,
    maxResponseSize: o.blockSize + HEADROOM,
    limits: nfs4Limits({ maxOps: 32, maxData: o.blockSize + HEADROOM }),
    mode: o.mode,
    label,
  });
  try {
    await ts[0].connect();
    await Promise.all(ts.slice(1).map((t) => t.connect()));
    await session.establish();
    // The export: given, else where the walk last entered another file system.
    const comps = components(full);
    let exportPath: string;
    let root: Buffer;
    let inner: string;
    if (given.export !== undefined) {
      const ec = components(given.export);
      const w = await walkFrom(session, undefined, ec, '/' + ec.join('/'));
      exportPath = '/' + ec.join('/');
      root = w.steps.length ? w.steps[w.steps.length - 1].fh : w.root.fh;
      const under = comps.length >= ec.length && ec.every((c, i) => comps[i] === c);
      inner = under ? '/' + comps.slice(ec.length).join('/') : '/';
    } else {
      // As v3, where MOUNT finds the export: the rest of the path need not exist (a cp destination).
      const w = await walkFrom(session, undefined, comps, full, true);
      let cut = 0;
      let fsid = w.root.fsid;
      w.steps.forEach((st, i) => {
        if (st.fsid !== fsid) cut = i + 1;
        fsid = st.fsid;
      });
      // Missing before any export was entered: no export there (mount.nfs then tries v3).
      if (w.missing !== undefined && cut === 0) throw nfs4Error(w.missing, 'mount', full);
      exportPath = '/' + comps.slice(0, cut).join('/');
      root = cut === 0 ? w.root.fh : w.steps[cut - 1].fh;
      inner = '/' + comps.slice(cut).join('/');
    }
    const ids = new IdMap(o.idmapDomain);
    const state = new Nfs4State(session);
    const maxRead = () => Math.max(4096, (session.fore?.maxResponseSize ?? o.blockSize + HEADROOM) - HEADROOM);
    const maxWrite = () => Math.max(4096, (session.fore?.maxRequestSize ?? o.blockSize + HEADROOM) - HEADROOM);
    const nfs = new Nfs4Fs(session, state, ids, { retry: true, maxRead, maxWrite, transport: ts[0] });
    const raw = new Nfs4Fs(session, state, ids, { retry: false, maxRead, maxWrite, transport: ts[0] });
    const fsinfo = await nfs.fsinfo(root);
    if (fsinfo.status !== 0) throw nfs4Error(fsinfo.status, 'fsinfo', exportPath);
    const localio = localioFor(o, ts[0], cred, label);
    for (const t of ts) t.onReconnect = () => localio.reconnected();
    // After state recovery LOCALIO probes again, as Linux's nfs4_do_reclaim does (a no-op while it is local).
    session.hooks.recovered = () => localio.reconnected();
    // MOUNT is no part of v4: listExports() and client.mount ask it where v3 would (the mount port, else the NFS one).
    const mountPort = given.mountPort ?? port;
    const mountCaller: Caller = async (proc, enc, hint, lbl) => {
      const own: RpcTransport = transport(o, xids, mountPort, 'mount', { mode: 'soft' });
      try {
        await own.connect();
        return await new Channel([own], MOUNT_PROGRAM, MOUNT_V3, () => cred).call(proc, enc, hint, lbl);
      } finally {
        own.close();
      }
    };
    const driver = new Nfs4Driver(session, state, ids);
    const client = new NfsClient({
      version: minor === 2 ? 4.2 : 4.1,
      v4: driver,
      localio,
      opts: o,
      host: o.host,
      nfsPort: port,
      mountPort,
      exportPath,
      cwd: inner,
      root,
      fsinfo,
      nfs,
      raw,
      mount: new MountRaw(mountCaller),
      transports: ts,
      listExports: () => new MountRaw(mountCaller).export(),
      umount: async () => undefined,
    });
    localio.probe('mount');
    return client;
  } catch (err) {
    session.abandon();
    closeAll();
    if (err instanceof NfsError) throw err;
    throw err;
  }
}
