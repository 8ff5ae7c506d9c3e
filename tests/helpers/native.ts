/**
 * The native addon's splice and listing calls for tests, as the server injects them into storage
 * (src/server/server.ts). Undefined, with a loud line, when the addon is not built; CI requires it
 * (tests/unit/localio-native.test.ts fails there without it).
 */
import { loadFdPass } from '../../src/localio/native.js';
import type { SpliceNative } from '../../src/storage/splice.js';
import type { StatAt, StatMany } from '../../src/storage/posix.js';

export function spliceCalls(): SpliceNative | undefined {
  const loaded = loadFdPass();
  const n = loaded.native;
  if (n?.pipeOpen && n.spliceIn && n.spliceOut) {
    return { pipeOpen: n.pipeOpen.bind(n), spliceIn: n.spliceIn.bind(n), spliceOut: n.spliceOut.bind(n) };
  }
  const why = loaded.native ? 'the addon predates splice (rebuild it)' : loaded.reason;
  console.warn(`\n!!!!! SKIPPING splice tests — ${why}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  return undefined;
}

/** The addon's statAt and statMany (listing pages), or undefined with a loud line. */
export function statCalls(): { statAt: StatAt; statMany: StatMany } | undefined {
  const loaded = loadFdPass();
  const n = loaded.native;
  if (n?.statAt && n.statMany) return { statAt: n.statAt.bind(n), statMany: n.statMany.bind(n) };
  const why = loaded.native ? 'the addon predates statMany (rebuild it)' : loaded.reason;
  console.warn(`\n!!!!! SKIPPING stat-ahead tests — ${why}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  return undefined;
}
