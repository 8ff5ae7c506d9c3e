import type { Getfh4Res } from '../types.js';
import type { OpRow } from '../optable-types.js';

/** GETFH (RFC 8881 section 18.8). */
export const getfh: OpRow<10> = {
  handler: (_a, c): Getfh4Res => ({ status: 0, object: c.fh! }),
  fh: true,
};
