/**
 * GateError / backend codes → mountstat3, in one place. "Not exported",
 * "not exported to you" and "insecure port" are all ACCES, as rpc.mountd
 * answers (and as mount(8) reports: "access denied by server").
 */
import { log } from '../util/log.js';
import { MountStat, type MountStatus } from './constants.js';

const TABLE: Readonly<Record<string, Exclude<MountStatus, 0>>> = {
  EACCES: MountStat.ACCES,
  EPERM: MountStat.ACCES,
  ENOENT: MountStat.NOENT,
  ENOTDIR: MountStat.NOTDIR,
  ELOOP: MountStat.NOTDIR,
  EINVAL: MountStat.INVAL,
  ENAMETOOLONG: MountStat.NAMETOOLONG,
  EIO: MountStat.IO,
  ESTALE: MountStat.IO,
  ENOTSUP: MountStat.NOTSUPP,
  EOPNOTSUPP: MountStat.NOTSUPP,
};

export function toMountStat(err: unknown): Exclude<MountStatus, 0> {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && TABLE[code] !== undefined) return TABLE[code];
  log.error('mount.serverfault', { reason: 'unmapped error', err: err as Error });
  return MountStat.SERVERFAULT;
}
