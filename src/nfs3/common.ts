/** Small helpers shared by the procedure handlers (the version-independent ones live in vfs/). */
import type { StableHow } from '../storage/types.js';
import { StableHow3, type StableHow3Value } from './constants.js';

export { callerOf, isExportRoot, reachableAfterRefusal, storageFailureResetsVerifier } from '../vfs/common.js';
export { isDotName } from '../vfs/create.js';
export { checkMayDelete } from '../vfs/dirops.js';

export function toStorageStable(s: StableHow3Value): StableHow {
  return s === StableHow3.FILE_SYNC ? 'file_sync' : s === StableHow3.DATA_SYNC ? 'data_sync' : 'unstable';
}

export function fromStorageStable(s: StableHow): StableHow3Value {
  return s === 'file_sync' ? StableHow3.FILE_SYNC : s === 'data_sync' ? StableHow3.DATA_SYNC : StableHow3.UNSTABLE;
}
