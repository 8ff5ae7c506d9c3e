/**
 * nfs-localio: a user-space NFS server (v3) and client (v3, v4.1, v4.2) for Node.js, with LOCALIO.
 *
 *   import { connect, NfsServer } from 'nfs-localio';
 */
export { connect, listExports } from './client/index.js';
export {
  NfsClient, FileHandle, ReadStream, WriteStream, Dir, Stats, Dirent, NfsError, NFS_SUPER_MAGIC, parseNfsUrl, Nfs3Raw, MountRaw, clientChannel,
  type ConnectOptions, type ParsedNfsUrl, type MountMode, type StatFs, type Resolved, type MkdirOptions, type RmOptions,
  type ReaddirOptions, type WriteFileOptions, type ReadResult, type WriteResult, type ReadStreamOptions,
  type WriteStreamOptions, type HandleReadStreamOptions, type HandleWriteStreamOptions, type DirOptions, type TransportStats, type ClientCounters,
  type NfsVersion, type VersionOption, type LockOptions, type NfsProcs, type StateRef,
} from './client/index.js';
export { NfsServer, defaultExportEntry, type NfsServerOptions } from './server/index.js';
export type { ExportNode } from './mount/types.js';
export type { Fattr3, Nfstime3, Sattr3 } from './nfs3/types.js';
export { localioChannel } from './localio/events.js';
export type { LocalioClient, LocalioClientStatus, LocalioState, IoCounts } from './localio/client.js';
export type { LocalioServerStatus, LocalioBindingStatus } from './localio/server.js';
export type { NfsServerStatus } from './server/server.js';
export { LOCALIO_PROGRAM } from './localio/constants.js';
