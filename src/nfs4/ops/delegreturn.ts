import { Nfs4Stat } from '../constants.js';
import type { Status4Res } from '../types.js';
import type { OpRow } from '../optable-types.js';

/** DELEGRETURN (RFC 8881 section 18.6): no delegation is ever granted, so no stateid names one. */
export const delegreturn: OpRow<8> = {
  handler: (): Status4Res => ({ status: Nfs4Stat.BAD_STATEID }),
  fh: true,
};
