/** Every fuzz target, by name. */
import { loadCorpus, type CorpusEntry } from './corpus.js';
import type { Target } from './target.js';
import { argumentTargets, channelTarget, resultTargets, serverPrograms } from './targets-programs.js';
import { authSysTarget, callTarget, recordTarget, replyTarget } from './targets-rpc.js';
import { rpcClientTarget, transportTarget } from './targets-clients.js';
import { fhTarget } from './targets-fh.js';
import { selftestTargets } from './targets-selftest.js';

export function allTargets(corpus: readonly CorpusEntry[] = loadCorpus()): Target[] {
  return [
    recordTarget(corpus),
    callTarget(corpus, serverPrograms()),
    authSysTarget(corpus),
    replyTarget(corpus),
    ...argumentTargets(corpus),
    channelTarget(corpus),
    fhTarget(corpus),
    ...resultTargets(corpus),
    rpcClientTarget(corpus),
    transportTarget(corpus),
    ...(process.env.FUZZ_SELFTEST === '1' ? selftestTargets() : []),
  ];
}

/** Targets whose name matches one of the comma-separated patterns (exact, or a prefix ending in '.' or '*'). */
export function selectTargets(all: Target[], patterns: string | undefined): Target[] {
  if (!patterns) return all;
  const ps = patterns.split(',').map((p) => p.trim()).filter(Boolean);
  return all.filter((t) => ps.some((p) => t.name === p || (p.endsWith('*') && t.name.startsWith(p.slice(0, -1))) || (p.endsWith('.') && t.name.startsWith(p))));
}

/** Every target's seeds: what mutations splice from. */
export function donorsOf(targets: readonly Target[]): Buffer[] {
  return targets.flatMap((t) => t.seeds).filter((b) => b.length <= 16 * 1024);
}
