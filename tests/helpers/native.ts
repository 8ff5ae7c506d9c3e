/**
 * The native addon's splice, listing and descriptor-relative calls for tests, as the server injects them into storage
 * (src/localio/native.ts storageCalls). Undefined, with a loud line, when the addon is not built;
 * CI requires it (tests/unit/localio-native.test.ts fails there without it).
 */
import { loadFdPass, storageCalls } from '../../src/localio/native.js';
import type { SpliceNative } from '../../src/storage/splice.js';
import type { StatMany } from '../../src/storage/posix.js';
import type { AtNative } from '../../src/storage/posix-at.js';
import type { V42Native } from '../../src/storage/posix-v42.js';

function skipping(what: string, call: string): undefined {
  const loaded = loadFdPass();
  const why = loaded.native ? `the addon predates ${call} (rebuild it)` : loaded.reason;
  console.warn(`\n!!!!! SKIPPING ${what} tests — ${why}\n!!!!! (run \`npm install\` with a C toolchain)\n`);
  return undefined;
}

export function spliceCalls(): SpliceNative | undefined {
  return storageCalls().splice ?? skipping('splice', 'splice');
}

/** The addon's descriptor-relative calls and statMany (listing pages ahead), or undefined with a loud line. */
export function statCalls(): { at: AtNative; statMany: StatMany; v42?: V42Native } | undefined {
  const { at, statMany, v42 } = storageCalls();
  return at && statMany ? { at, statMany, v42 } : skipping('descriptor-relative storage', 'fsAt');
}
