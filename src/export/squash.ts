/**
 * Credential squashing: who a call acts as, after the export's policy.
 *
 * Mirrors Linux nfsd_setuser(): all_squash maps everyone to anonuid/anongid
 * with no supplementary groups; root_squash maps uid 0 to anonuid, gid 0 to
 * anongid and any 0 among the supplementary gids to anongid (otherwise a
 * squashed root would keep group-root access); the invalid id (uint32 -1)
 * always becomes the anonymous one.
 */
import type { Credential } from '../rpc/auth.js';
import type { ExportOptions, Identity, ServerIdentity } from './types.js';

/** (uid_t)-1: never a real user; Linux maps it to the anonymous id. */
const INVALID_ID = 0xffffffff;

export function squash(cred: Credential, opts: ExportOptions, server: ServerIdentity): Identity {
  // An unprivileged server cannot act as anyone else: every file it creates
  // is its own, and the kernel checks its own ids. Pretending otherwise would
  // let our permission checks pass for a caller while the OS refuses (or the
  // reverse). So every caller is all_squashed to the server's own ids, and
  // the export's permission checks then match what the kernel will enforce.
  if (!server.privileged) return { uid: server.uid, gid: server.gid, gids: [...server.gids] };

  const anon: Identity = { uid: opts.anonuid, gid: opts.anongid, gids: [] };
  if (cred.flavor !== 'sys') return anon; // AUTH_NONE: nobody in particular
  if (opts.squash === 'all') return anon;

  let { uid, gid } = cred;
  let gids = [...cred.gids];
  if (opts.squash === 'root') {
    if (uid === 0) uid = opts.anonuid;
    if (gid === 0) gid = opts.anongid;
    gids = gids.map((g) => (g === 0 ? opts.anongid : g));
  }
  if (uid === INVALID_ID) uid = opts.anonuid;
  if (gid === INVALID_ID) gid = opts.anongid;
  return { uid, gid, gids };
}
