import type { ProcedureDef } from '../../rpc/program.js';
import { May, type Verified } from '../../export/types.js';
import { permits } from '../../export/permission.js';
import type { Attrs, Node } from '../../storage/types.js';
import type { Nfs3Env } from '../env.js';
import type { CreateArgs, CreateRes, Sattr3 } from '../types.js';
import { decodeCreateArgs } from '../codec/args.js';
import { encodeDirCreateRes } from '../codec/results.js';
import { CreateMode3 } from '../constants.js';
import { refuse } from '../status.js';
import { codeOf } from '../../util/errno.js';
import { toSetAttrs } from '../sattr.js';
import {
  applyAfterCreate, checkNewName, createIn, newMode, newOwner,
} from '../create-common.js';

/**
 * The EXCLUSIVE verifier as stored in the new file's times, like knfsd: the
 * first 4 bytes become atime seconds, the last 4 mtime seconds. The high bit
 * is cleared (knfsd does too): times past 2038 upset filesystems without
 * 64-bit timestamps and some clients, and it only costs one bit of verifier.
 */
export function verifierTimes(verf: Buffer): { atime: number; mtime: number } {
  return { atime: verf.readUInt32BE(0) & 0x7fffffff, mtime: verf.readUInt32BE(4) & 0x7fffffff };
}

/** Does this existing object hold the verifier of a retransmitted EXCLUSIVE create (and nothing written yet)? */
function holdsVerifier(a: Attrs, verf: Buffer): boolean {
  const t = verifierTimes(verf);
  return a.type === 'reg' && a.atime.sec === t.atime && a.mtime.sec === t.mtime && a.size === 0n;
}

async function lookupOrUndefined(dir: Verified, name: string): Promise<Node | undefined> {
  try {
    return await dir.export.backend.lookup(dir.node, name);
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** UNCHECKED: an existing regular file is reused and only its size is applied (knfsd); otherwise create. */
async function createUnchecked(dir: Verified, name: string, s: Sattr3): Promise<Node> {
  const b = dir.export.backend;
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await lookupOrUndefined(dir, name);
    if (existing) {
      const a = await b.getattr(existing);
      if (a.type !== 'reg') refuse('EEXIST', `"${name}" exists and is not a regular file`);
      const set = toSetAttrs(s);
      if (set.size !== undefined) {
        // Truncating someone else's file is a write to it: the same check SETATTR would make.
        if (!permits(a, dir.identity, May.WRITE)) refuse('EACCES', `no write permission on "${name}"`);
        await b.setattr(existing, { size: set.size });
      }
      return existing;
    }
    try {
      return await createNew(dir, name, s);
    } catch (e) {
      // Lost a race with another creator: go round once more and reuse it.
      if (codeOf(e) !== 'EEXIST') throw e;
    }
  }
  refuse('EEXIST', `"${name}" keeps appearing and disappearing`);
}

async function createNew(dir: Verified, name: string, s: Sattr3): Promise<Node> {
  const node = await dir.export.backend.create(dir.node, name, {
    mode: newMode(s, dir),
    owner: newOwner(dir, s),
    exclusive: true,
  });
  await applyAfterCreate(dir, node, s, true);
  return node;
}

/** EXCLUSIVE: create, then store the verifier; a retransmission finds it and succeeds with the same file. */
async function createExclusive(dir: Verified, name: string, verf: Buffer): Promise<Node> {
  const b = dir.export.backend;
  try {
    const node = await b.create(dir.node, name, { mode: 0, owner: newOwner(dir, {}), exclusive: true });
    const t = verifierTimes(verf);
    await b.setattr(node, { atime: { sec: t.atime, nsec: 0 }, mtime: { sec: t.mtime, nsec: 0 } });
    return node;
  } catch (e) {
    if (codeOf(e) !== 'EEXIST') throw e;
    const existing = await b.lookup(dir.node, name);
    if (holdsVerifier(await b.getattr(existing), verf)) return existing;
    throw e;
  }
}

/**
 * NFSPROC3_CREATE (3.3.8) of a regular file, in the three modes:
 * UNCHECKED (reuse an existing regular file, truncating if asked), GUARDED
 * (EXIST if the name exists) and EXCLUSIVE (idempotent through the verifier).
 * New files are owned per ownerFor (setgid directories give their group).
 */
export function createProcedure(env: Nfs3Env): ProcedureDef<CreateArgs, CreateRes> {
  return {
    name: 'CREATE',
    decode: decodeCreateArgs,
    handle: (args, ctx) =>
      createIn(env, ctx, args.where.dir, async (dir) => {
        const name = args.where.name;
        checkNewName(name);
        const how = args.how;
        let node: Node;
        if (how.mode === CreateMode3.EXCLUSIVE) node = await createExclusive(dir, name, how.verf);
        else if (how.mode === CreateMode3.GUARDED) node = await createNew(dir, name, how.attrs);
        else node = await createUnchecked(dir, name, how.attrs);
        return node;
      }),
    encode: encodeDirCreateRes,
    cache: 'reply',
  };
}
