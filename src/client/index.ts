/** The NFS client (v3, v4.1, v4.2): connect() and the fs.promises-style API. */
export { connect, listExports } from './connect.js';
export { NfsClient, type Resolved, type MkdirOptions, type RmOptions, type ReaddirOptions, type WriteFileOptions } from './client.js';
export { FileHandle, type ReadResult, type WriteResult, type HandleReadStreamOptions, type HandleWriteStreamOptions, type LockOptions } from './filehandle.js';
export { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
export { Dir, type DirOptions } from './dir.js';
export { Stats, Dirent, NFS_SUPER_MAGIC, type StatFs } from './stats.js';
export { NfsError, nfsError, strerror, isNfsError } from './errors.js';
export { parseNfsUrl, type ConnectOptions, type ParsedNfsUrl, type MountMode, type NfsVersion, type VersionOption } from './options.js';
export { Nfs3Raw, MountRaw } from './raw.js';
export type { NfsProcs, StateRef } from './procs.js';
export { clientChannel, type TransportStats } from './transport.js';
export type { ClientCounters } from './io.js';
