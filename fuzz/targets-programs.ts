/**
 * Targets for every program's argument decoders — taken from the very procedure tables the server
 * dispatches through (NFSv3, MOUNT v3, portmapper v2 / rpcbind v3-v4, LOCALIO), so WRITE is fuzzed
 * with its real wtmax bound — and for the client's decoders of NFSv3 and MOUNT results, and the
 * LOCALIO channel's message decoder.
 */
import { XdrReader, type XdrWriter } from '../src/xdr/index.js';
import type { ProcedureDef, RpcProgram } from '../src/rpc/program.js';
import * as nfs3 from '../src/nfs3/index.js';
import { createMountProgram, encodeDirpath, decodeExports, decodeMntRes, decodeMountList, MOUNT_PROGRAM } from '../src/mount/index.js';
import { MountList } from '../src/mount/mount-list.js';
import { createPortmapProgram, PMAP_PROGRAM } from '../src/portmap/program.js';
import { createLocalioProgram } from '../src/localio/program.js';
import { ChannelProtocolError, decodeMsg, encodeMsg, type ChannelMsg } from '../src/localio/protocol.js';
import type { FhGate, ExportRegistry } from '../src/export/types.js';
import { argsOf, resultsOf, recordsOf, type CorpusEntry } from './corpus.js';
import { decoderTarget, type Target } from './target.js';
import { InvariantError, checkShape, unguarded } from './guard.js';
import type { Rng } from './prng.js';
import { INTERESTING32 } from './mutate.js';

const P = nfs3.Nfs3Proc;
/** The server's defaults (src/server/server.ts): 1 MiB rtmax/wtmax. */
export const WTMAX = 1024 * 1024;

/** The server's programs, built with stub environments: decoders touch nothing but the bytes. */
export function serverPrograms(): RpcProgram[] {
  const gate = {} as FhGate;
  const exports = {} as ExportRegistry;
  const env: nfs3.Nfs3Env = {
    gate,
    exports,
    writeVerifier: () => Buffer.alloc(8),
    resetWriteVerifier: () => undefined,
    rtmax: 1024 * 1024,
    wtmax: WTMAX,
    dtpref: 64 * 1024,
  };
  return [
    nfs3.createNfs3Program(env),
    createMountProgram({ gate, exports, mountList: new MountList() }),
    createPortmapProgram({ mappings: () => [] }),
    createLocalioProgram({ uuidIsLocal: async () => undefined }),
  ];
}

/** The project's own encoders of NFSv3 arguments, by procedure, for the round-trip check. */
const NFS3_ARG_ENCODERS: Record<number, ((w: XdrWriter, v: any) => void) | undefined> = {
  [P.GETATTR]: nfs3.encodeGetattrArgs, [P.SETATTR]: nfs3.encodeSetattrArgs, [P.LOOKUP]: nfs3.encodeLookupArgs,
  [P.ACCESS]: nfs3.encodeAccessArgs, [P.READLINK]: nfs3.encodeReadlinkArgs, [P.READ]: nfs3.encodeReadArgs,
  [P.WRITE]: nfs3.encodeWriteArgs, [P.CREATE]: nfs3.encodeCreateArgs, [P.MKDIR]: nfs3.encodeMkdirArgs,
  [P.SYMLINK]: nfs3.encodeSymlinkArgs, [P.MKNOD]: nfs3.encodeMknodArgs, [P.REMOVE]: nfs3.encodeRemoveArgs,
  [P.RMDIR]: nfs3.encodeRmdirArgs, [P.RENAME]: nfs3.encodeRenameArgs, [P.LINK]: nfs3.encodeLinkArgs,
  [P.READDIR]: nfs3.encodeReaddirArgs, [P.READDIRPLUS]: nfs3.encodeReaddirplusArgs, [P.FSSTAT]: nfs3.encodeFsstatArgs,
  [P.FSINFO]: nfs3.encodeFsinfoArgs, [P.PATHCONF]: nfs3.encodePathconfArgs, [P.COMMIT]: nfs3.encodeCommitArgs,
};

const PROGRAM_NAMES: Record<number, string> = { [nfs3.NFS3_PROGRAM]: 'nfs3', [MOUNT_PROGRAM]: 'mount', [PMAP_PROGRAM]: 'portmap', 400122: 'localio' };

/** One target per distinct decoder in the server's tables (rpcbind v3 and v4 share theirs). */
export function argumentTargets(corpus: readonly CorpusEntry[]): Target[] {
  const out: Target[] = [];
  for (const prog of serverPrograms()) {
    const seen = new Map<ProcedureDef, string>();
    for (const [, table] of prog.versions) {
      table.forEach((proc, n) => {
        if (!proc) return;
        const versions = [...prog.versions].filter(([, t]) => t[n] === proc).map(([v]) => v);
        if (seen.has(proc)) return;
        const vtag = prog.number === PMAP_PROGRAM ? `.v${versions.join('-')}` : '';
        const name = `${PROGRAM_NAMES[prog.number] ?? prog.number}${vtag}.${proc.name}.args`;
        seen.set(proc, name);
        let seeds = argsOf(corpus, prog.number, versions, n);
        if (seeds.length === 0) seeds = [Buffer.alloc(0)];
        const encode = prog.number === nfs3.NFS3_PROGRAM ? NFS3_ARG_ENCODERS[n] : prog.number === MOUNT_PROGRAM && (n === 1 || n === 3) ? encodeDirpath : undefined;
        out.push(withSeek(decoderTarget(name, seeds, (r) => proc.decode(r), { encode, maxLen: n === P.WRITE ? 8192 : 4096 }), proc));
      });
    }
  }
  return out;
}

/**
 * A procedure that locates its bulk payload (WRITE's seekPayload, used to place a large record's
 * data on a page boundary) must agree with its decoder: on any input the decoder accepts, the seek
 * succeeds and stops exactly where the decoded data begins.
 */
function withSeek(t: Target, proc: ProcedureDef): Target {
  const seek = proc.seekPayload;
  if (!seek) return t;
  return {
    ...t,
    run(input, rng) {
      let at = -1;
      try {
        const r = new XdrReader(input);
        seek(r);
        at = r.offset;
      } catch (e) {
        if (!t.expected(e)) throw e;
      }
      const res = t.run(input, rng); // throws when the decoder rejects the input
      const data = unguarded(() => (proc.decode(new XdrReader(input)) as { data?: Buffer }).data);
      if (data && data.byteOffset - input.byteOffset !== at) {
        throw new InvariantError(`seekPayload stops at ${at}, the decoded data starts at ${data.byteOffset - input.byteOffset}`);
      }
      return res;
    },
  };
}

/** What a client asks READ for: the bound its reply decoder gets. 0xffffffff is a legal count3. */
const READ_COUNTS = [0, 1, 512, 4096, 1024 * 1024, 0x7fffffff, 0xffffffff];

/** The client's decoders of results, one target per procedure (CREATE/MKDIR/SYMLINK/MKNOD share one decoder, with their own replies). */
export function resultTargets(corpus: readonly CorpusEntry[]): Target[] {
  const d: Array<[string, number, (r: XdrReader, rng: Rng) => unknown]> = [
    ['GETATTR', P.GETATTR, nfs3.decodeGetattrRes], ['SETATTR', P.SETATTR, nfs3.decodeSetattrRes],
    ['LOOKUP', P.LOOKUP, nfs3.decodeLookupRes], ['ACCESS', P.ACCESS, nfs3.decodeAccessRes],
    ['READLINK', P.READLINK, nfs3.decodeReadlinkRes], ['READ', P.READ, (r, rng) => nfs3.decodeReadRes(r, rng.pick(READ_COUNTS))],
    ['WRITE', P.WRITE, nfs3.decodeWriteRes], ['CREATE', P.CREATE, nfs3.decodeDirCreateRes], ['MKDIR', P.MKDIR, nfs3.decodeDirCreateRes],
    ['SYMLINK', P.SYMLINK, nfs3.decodeDirCreateRes], ['MKNOD', P.MKNOD, nfs3.decodeDirCreateRes], ['REMOVE', P.REMOVE, nfs3.decodeRemoveRes],
    ['RMDIR', P.RMDIR, nfs3.decodeRmdirRes], ['RENAME', P.RENAME, nfs3.decodeRenameRes], ['LINK', P.LINK, nfs3.decodeLinkRes],
    ['READDIR', P.READDIR, nfs3.decodeReaddirRes], ['READDIRPLUS', P.READDIRPLUS, nfs3.decodeReaddirplusRes],
    ['FSSTAT', P.FSSTAT, nfs3.decodeFsstatRes], ['FSINFO', P.FSINFO, nfs3.decodeFsinfoRes], ['PATHCONF', P.PATHCONF, nfs3.decodePathconfRes],
    ['COMMIT', P.COMMIT, nfs3.decodeCommitRes],
  ];
  const out = d.map(([name, proc, dec]) => decoderTarget(`nfs3.${name}.res`, seedsOr(resultsOf(corpus, nfs3.NFS3_PROGRAM, 3, proc)), dec, { maxLen: 8192 }));
  out.push(
    decoderTarget('mount.MNT.res', seedsOr(resultsOf(corpus, MOUNT_PROGRAM, 3, 1)), decodeMntRes),
    decoderTarget('mount.DUMP.res', seedsOr(resultsOf(corpus, MOUNT_PROGRAM, 3, 2)), decodeMountList),
    decoderTarget('mount.EXPORT.res', seedsOr(resultsOf(corpus, MOUNT_PROGRAM, 3, 5)), decodeExports),
    // src/client/connect.ts reads a GETPORT reply as one uint32
    decoderTarget('portmap.GETPORT.res', seedsOr(resultsOf(corpus, PMAP_PROGRAM, 2, 3)), (r) => r.uint32()),
  );
  return out;
}

function seedsOr(s: Buffer[]): Buffer[] {
  return s.length > 0 ? s : [Buffer.alloc(4)];
}

/** LOCALIO channel messages (JSON over a SEQPACKET socket): byte mutations plus a JSON-aware mutator. */
export function channelTarget(corpus: readonly CorpusEntry[]): Target {
  return {
    name: 'localio.channel',
    seeds: recordsOf(corpus, 'channel'),
    maxLen: 20 * 1024,
    expected: (e) => e instanceof ChannelProtocolError,
    run(input) {
      const m = decodeMsg(input);
      checkShape(m, input);
      // What decodes must encode again (the peer's own encoder accepts it) and decode to the same message.
      const again = unguarded(() => decodeMsg(encodeMsg(m)));
      if (JSON.stringify(again, bufJson) !== JSON.stringify(m, bufJson)) throw new InvariantError('decodeMsg(encodeMsg(m)) differs from m');
      return 'ok';
    },
    mutate: mutateJson,
  };
}

function bufJson(_k: string, v: unknown): unknown {
  return v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `buf:${JSON.stringify((v as { data: number[] }).data)}` : v;
}

const WEIRD: readonly unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, '', 'x'.repeat(513), 'r', 'rw', [], [1, 2], {}, { reads: 1 },
  '__proto__', 'AAAA', '////', '=', 'A'.repeat(90),
];

/** Parse the seed's JSON, change a field (type, value, presence, nesting), serialise again. */
function mutateJson(rng: Rng, seed: Buffer): Buffer {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(seed.toString('utf8')) as Record<string, unknown>;
  } catch {
    return seed;
  }
  const n = rng.few(4);
  for (let i = 0; i < n; i++) {
    const holder = rng.chance(0.3) && typeof o.cred === 'object' && o.cred ? (o.cred as Record<string, unknown>) : rng.chance(0.3) && typeof o.local === 'object' && o.local ? (o.local as Record<string, unknown>) : o;
    const keys = Object.keys(holder);
    const k = rng.chance(0.8) && keys.length > 0 ? rng.pick(keys) : rng.pick(['t', 'v', 'id', 'fh', 'gids', 'exportId', '__proto__', 'extra']);
    switch (rng.below(5)) {
      case 0:
        delete holder[k];
        break;
      case 1:
        holder[k] = structuredClone(rng.pick(WEIRD)); // a copy: later mutations may change it
        break;
      case 2:
        holder[k] = rng.pick(INTERESTING32) * (rng.chance(0.2) ? -1 : 1);
        break;
      case 3:
        holder[k] = Array.from({ length: rng.size(40) }, () => rng.pick(INTERESTING32));
        break;
      default:
        o.t = rng.pick(['hello', 'welcome', 'open', 'opened', 'error', 'release', 'invalidate', 'invalidated', 'stats', 'bogus']);
    }
  }
  return Buffer.from(JSON.stringify(o));
}
