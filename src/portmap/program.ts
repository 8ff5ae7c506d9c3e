import type { XdrReader, XdrWriter } from '../xdr/index.js';
import type { ProcedureDef, RpcProgram } from '../rpc/program.js';
import type { CallContext } from '../rpc/context.js';

/**
 * A built-in portmapper (RFC 1833): PMAP v2 NULL/GETPORT/DUMP and rpcbind
 * v3/v4 NULL/GETADDR/DUMP, answering for the programs this server serves, so
 * clients that need a portmapper (the Linux kernel's lockd-less mounts still
 * ask for MOUNT's port when `mountport=` is absent; libnfs without `nfsport=`)
 * work with no system rpcbind. SET/UNSET are refused: nobody else may register.
 */
export const PMAP_PROGRAM = 100000;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const MAX_NETID = 64;
const MAX_UADDR = 128;
const MAX_OWNER = 256;

export interface Mapping {
  prog: number;
  vers: number;
  /** The TCP port the program is served on. */
  port: number;
}

export interface PortmapEnv {
  /** The mappings to advertise (all TCP). */
  mappings(): readonly Mapping[];
}

interface PmapArgs {
  prog: number;
  vers: number;
  prot: number;
  port: number;
}

interface RpcbArgs {
  prog: number;
  vers: number;
  netid: string;
  addr: string;
  owner: string;
}

const nullProc: ProcedureDef<void, void> = {
  name: 'NULL',
  cache: 'none',
  decode: () => undefined,
  handle: () => undefined,
  encode: () => undefined,
};

function readPmap(r: XdrReader): PmapArgs {
  return { prog: r.uint32(), vers: r.uint32(), prot: r.uint32(), port: r.uint32() };
}

function readRpcb(r: XdrReader): RpcbArgs {
  return { prog: r.uint32(), vers: r.uint32(), netid: r.string(MAX_NETID), addr: r.string(MAX_UADDR), owner: r.string(MAX_OWNER) };
}

/** RFC 1833 universal address: "h1.h2.h3.h4.p1.p2" (IPv4) or "addr.p1.p2" (IPv6). */
export function universalAddress(address: string, port: number): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return `${a}.${port >> 8}.${port & 255}`;
}

function find(env: PortmapEnv, prog: number, vers: number): Mapping | undefined {
  return env.mappings().find((m) => m.prog === prog && m.vers === vers);
}

function pmapProcedures(env: PortmapEnv): Array<ProcedureDef | undefined> {
  const set: ProcedureDef<PmapArgs, boolean> = {
    name: 'SET',
    cache: 'none',
    decode: readPmap,
    handle: () => false,
    encode: (w: XdrWriter, ok: boolean) => void w.bool(ok),
  };
  const getport: ProcedureDef<PmapArgs, number> = {
    name: 'GETPORT',
    cache: 'none',
    decode: readPmap,
    handle: (a) => (a.prot === IPPROTO_TCP ? (find(env, a.prog, a.vers)?.port ?? 0) : 0),
    encode: (w, port) => void w.uint32(port),
  };
  const dump: ProcedureDef<void, readonly Mapping[]> = {
    name: 'DUMP',
    cache: 'none',
    decode: () => undefined,
    handle: () => env.mappings(),
    encode: (w, list) => {
      for (const m of list) w.bool(true).uint32(m.prog).uint32(m.vers).uint32(IPPROTO_TCP).uint32(m.port);
      w.bool(false);
    },
  };
  return [nullProc, set, { ...set, name: 'UNSET' }, getport, dump];
}

function rpcbProcedures(env: PortmapEnv): Array<ProcedureDef | undefined> {
  const set: ProcedureDef<RpcbArgs, boolean> = {
    name: 'SET',
    cache: 'none',
    decode: readRpcb,
    handle: () => false,
    encode: (w, ok) => void w.bool(ok),
  };
  const getaddr: ProcedureDef<RpcbArgs, string> = {
    name: 'GETADDR',
    cache: 'none',
    decode: readRpcb,
    handle: (a, ctx: CallContext) => {
      if (a.netid !== 'tcp' && a.netid !== 'tcp6') return '';
      const m = find(env, a.prog, a.vers) ?? (a.vers === 0 ? env.mappings().find((x) => x.prog === a.prog) : undefined);
      return m ? universalAddress(ctx.local.address, m.port) : '';
    },
    encode: (w, s) => void w.string(s),
  };
  const dump: ProcedureDef<void, { list: readonly Mapping[]; ctx: CallContext }> = {
    name: 'DUMP',
    cache: 'none',
    decode: () => undefined,
    handle: (_a, ctx) => ({ list: env.mappings(), ctx }),
    encode: (w, { list, ctx }) => {
      const v6 = ctx.local.address.includes(':') && !ctx.local.address.startsWith('::ffff:');
      for (const m of list) {
        w.bool(true).uint32(m.prog).uint32(m.vers).string(v6 ? 'tcp6' : 'tcp');
        w.string(universalAddress(ctx.local.address, m.port)).string('superuser');
      }
      w.bool(false);
    },
  };
  return [nullProc, set, { ...set, name: 'UNSET' }, getaddr, dump];
}

export function createPortmapProgram(env: PortmapEnv): RpcProgram {
  const rpcb = rpcbProcedures(env);
  return {
    number: PMAP_PROGRAM,
    name: 'portmap',
    versions: new Map([
      [2, pmapProcedures(env)],
      [3, rpcb],
      [4, rpcb],
    ]),
  };
}
