/**
 * File handles: the first thing the export gate does with a handle from the wire is decodeFh
 * (src/export/fh.ts) — version, lengths, MAC, export id. Mutated handles almost never carry a
 * valid MAC, so half the cases re-sign the mutated bytes with the fuzzer's secret, which lets the
 * parsing after the MAC check see arbitrary bodies too. What decodes must be the canonical
 * encoding of what it decoded to: encoding the result again gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { decodeFh, encodeFh, encodeFhCompact, FH_COMPACT_HEADER, FH_HEADER, FH_MAC_LEN, FH_VERSION, FH_VERSION_COMPACT } from '../src/export/fh.js';
import { GateError } from '../src/export/types.js';
import { resultsOf, type CorpusEntry } from './corpus.js';
import { decodeMntRes, MOUNT_PROGRAM } from '../src/mount/index.js';
import { XdrReader } from '../src/xdr/index.js';
import { InvariantError, unguarded } from './guard.js';
import type { Target } from './target.js';

const SECRET = Buffer.alloc(32, 0x5c);

function resign(fh: Buffer): void {
  const header = fh[0] === FH_VERSION_COMPACT ? FH_COMPACT_HEADER : FH_HEADER;
  if (fh.length < header + FH_MAC_LEN) return;
  const body = fh.subarray(0, fh.length - FH_MAC_LEN);
  createHash('sha256').update(SECRET).update(body).digest().copy(fh, body.length, 0, FH_MAC_LEN);
}

export function fhTarget(corpus: readonly CorpusEntry[]): Target {
  const key = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
  const seeds = [
    encodeFhCompact(SECRET, 1, key(11)), encodeFhCompact(SECRET, 0xffffffff, key(32)), encodeFhCompact(SECRET, 7, key(0)),
    encodeFh(SECRET, 1, key(21)), encodeFh(SECRET, 2, key(32)), encodeFh(SECRET, 3, key(0)),
    ...resultsOf(corpus, MOUNT_PROGRAM, 3, 1).flatMap((r) => {
      try {
        const m = decodeMntRes(new XdrReader(r));
        return m.status === 0 ? [Buffer.from(m.fhandle)] : [];
      } catch {
        return [];
      }
    }),
  ];
  return {
    name: 'export.fh',
    seeds,
    maxLen: 64,
    expected: (e) => e instanceof GateError && e.code === 'EBADHANDLE',
    // the MAC input: secret + body
    allocLimit: (input) => Math.max(64, input.length + SECRET.length),
    run(input, rng) {
      if (rng.chance(0.5)) unguarded(() => resign(input));
      const { exportId, nodeKey } = decodeFh(SECRET, input);
      if (exportId === 0 || nodeKey.length > 32) throw new InvariantError(`decoded export ${exportId}, key of ${nodeKey.length} bytes`);
      const again = unguarded(() => (input[0] === FH_VERSION ? encodeFh : encodeFhCompact)(SECRET, exportId, nodeKey));
      if (!again.equals(input)) throw new InvariantError(`handle ${input.toString('hex')} decodes, but encodes back as ${again.toString('hex')}`);
      return 'ok';
    },
  };
}
