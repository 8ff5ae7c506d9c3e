/**
 * The native addon's splice and listing calls for tests, as the server injects them into storage
 * (src/localio/native.ts storageCalls). Undefined, with a loud line, when the addon is not built;
 * CI requires it (tests/unit/localio-native.test.ts fails there without it).
 */
import { loadFdPass, storageCalls } from '../../src/localio/native.js';
import type { SpliceNative } from '../../src/storage/splice.js';
import type { StatAt, StatMany } from '../../src/storage/posix.js';

function skipping(what: string, call: string): undefined {
  const loaded = loadFdPass();
  const why = loaded.native ? `the addon predates ${call} (rebuild it)` : loaded.reason;
  console.warn(`\n!!!!! SKIPPING ${what} tests — ${why}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  return undefined;
}

export function spliceCalls(): SpliceNative | undefined {
  return storageCalls().splice ?? skipping('splice', 'splice');
}

/** The addon's statAt and statMany (listing pages), or undefined with a loud line. */
export function statCalls(): { statAt: StatAt; statMany: StatMany } | undefined {
  const { statAt, statMany } = storageCalls();
  return statAt && statMany ? { statAt, statMany } : skipping('stat-ahead', 'statMany');
}
